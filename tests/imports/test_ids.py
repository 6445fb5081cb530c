"""Ids made many at a time for imported rows: version 7 UUIDs, in the order they were made."""

from __future__ import annotations

import time
import uuid

from app.imports.ids import new_ids


def test_new_ids_are_version_7_uuids() -> None:
    ids = new_ids(2_000)
    assert {(i.version, i.variant) for i in ids} == {(7, uuid.RFC_4122)}


def test_new_ids_carry_the_time_they_were_made_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    ids = new_ids(100)
    after = time.time_ns() // 1_000_000
    assert all(before <= i.int >> 80 <= after for i in ids)


def test_new_ids_come_in_ascending_order_and_later_calls_sort_after() -> None:
    first = new_ids(3_000)
    time.sleep(0.002)
    second = new_ids(3_000)
    assert first == sorted(first) and second == sorted(second)
    assert max(first) < min(second)


def test_new_ids_are_all_different() -> None:
    assert len(set(new_ids(5_000) + new_ids(5_000))) == 10_000


def test_new_ids_equal_and_hash_like_the_standard_uuid() -> None:
    made = new_ids(1)[0]
    standard = uuid.UUID(str(made))
    assert isinstance(made, uuid.UUID) and made == standard and hash(made) == hash(standard)


def test_no_ids_asked_none_made() -> None:
    assert new_ids(0) == []
