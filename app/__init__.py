"""Dondoc: directives become tracked tasks, deadlines and escalations."""

from sqlmodel import SQLModel

# Stable constraint names make migrations reproducible. Set here, before any
# models module defines a table, because the convention applies at definition.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
