"""Ids made many at a time for imported rows are ordinary random UUIDs."""

from __future__ import annotations

import uuid

from app.imports.ids import new_ids


def test_new_ids_are_random_version_4_uuids() -> None:
    ids = new_ids(2_000)
    assert {(i.version, i.variant) for i in ids} == {(4, uuid.RFC_4122)}


def test_new_ids_are_all_different() -> None:
    assert len(set(new_ids(5_000) + new_ids(5_000))) == 10_000


def test_new_ids_equal_and_hash_like_the_standard_uuid() -> None:
    made = new_ids(1)[0]
    standard = uuid.UUID(str(made))
    assert isinstance(made, uuid.UUID) and made == standard and hash(made) == hash(standard)


def test_no_ids_asked_none_made() -> None:
    assert new_ids(0) == []
