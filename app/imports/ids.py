"""Ids for the rows an import writes, made many at a time."""

from __future__ import annotations

import os
from uuid import UUID

from asyncpg.pgproto.pgproto import UUID as DriverUUID

# Version 4 (random) UUIDs: the version nibble is 4 and the variant bits 10, as uuid.uuid4() sets them.
_VERSION_4 = bytes(b & 0x0F | 0x40 for b in range(256))
_VARIANT_RFC_4122 = bytes(b & 0x3F | 0x80 for b in range(256))


def new_ids(count: int) -> list[UUID]:
    """`count` random (version 4) UUIDs, as uuid4() makes them, from one read of the OS's random source.

    A batch of directives holds ten thousand assignments: one uuid4() each (a system call and a
    Python-level UUID) cost more than the rest of building them. They are the driver's own UUID
    type (a subclass of uuid.UUID, equal and hashing alike), which asyncpg also encodes fastest.
    """
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_VARIANT_RFC_4122)
    data = bytes(raw)
    return [DriverUUID(data[i : i + 16]) for i in range(0, 16 * count, 16)]
