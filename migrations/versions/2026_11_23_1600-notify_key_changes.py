"""Tell API processes when a key or its unit changes, so they may remember authenticated keys.

Each API process keeps the keys it has authenticated (app/auth/keycache.py) and forgets all of
them when it hears `NOTIFY dondoc_auth`. These triggers send it for every change that could
change who a key stands for: any update or delete of a key (revocation, expiry, role, unit), a
unit's deactivation or deletion, and truncation of either table. NOTIFY is delivered at commit,
and identical notifications of one transaction are folded into one.

Revision ID: 8b41d0c7e5a3
Revises: c4f2a8e61d90
Create Date: 2026-11-23 16:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '8b41d0c7e5a3'
down_revision: str | None = 'c4f2a8e61d90'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION notify_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('dondoc_auth', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER api_keys_notify_change AFTER UPDATE OR DELETE ON api_keys "
        "FOR EACH STATEMENT EXECUTE FUNCTION notify_key_change()"
    )
    op.execute(
        "CREATE TRIGGER api_keys_notify_truncate AFTER TRUNCATE ON api_keys "
        "FOR EACH STATEMENT EXECUTE FUNCTION notify_key_change()"
    )
    # Units change often (renames, moves, aliases); only deactivation and deletion matter to a key.
    op.execute(
        "CREATE TRIGGER units_notify_deactivation AFTER UPDATE OF active ON units "
        "FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active) EXECUTE FUNCTION notify_key_change()"
    )
    op.execute(
        "CREATE TRIGGER units_notify_delete AFTER DELETE ON units "
        "FOR EACH STATEMENT EXECUTE FUNCTION notify_key_change()"
    )
    op.execute(
        "CREATE TRIGGER units_notify_truncate AFTER TRUNCATE ON units "
        "FOR EACH STATEMENT EXECUTE FUNCTION notify_key_change()"
    )


def downgrade() -> None:
    for trigger, table in (
        ("units_notify_truncate", "units"),
        ("units_notify_delete", "units"),
        ("units_notify_deactivation", "units"),
        ("api_keys_notify_truncate", "api_keys"),
        ("api_keys_notify_change", "api_keys"),
    ):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    op.execute("DROP FUNCTION notify_key_change()")
