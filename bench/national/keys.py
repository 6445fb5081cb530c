"""API keys for the load, minted by the project's own key service (so hashing and audit are the app's),
and the ids each key's requests pick from. Kept in memory only: nothing outlives the scratch database.

Per province: an admin, an issuer and a reader at the Sở; a member key for 20 commune stations
(their inbox, their assignments, their reports) and for 2 health centres (a subtree inbox).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from bench.national.tree import Province

STATIONS_PER_PROVINCE = 20
CENTRES_PER_PROVINCE = 2


@dataclass
class StationKey:
    secret: str
    unit_id: str
    ids: list[str]  # any of its assignments (reads)
    open_ids: list[str]  # pending or in progress (reports)


@dataclass
class ProvinceKeys:
    code: str
    root_id: str
    root_code: str
    admin: str
    issuer: str
    reader: str
    office_codes: list[str]
    health_centre_codes: list[str]
    stations: list[StationKey] = field(default_factory=list)
    centres: list[str] = field(default_factory=list)  # member keys of health centres


@dataclass
class Pools:
    provinces: list[ProvinceKeys]
    sample_ids: list[str]  # assignment ids for the bare baseline's reads
    sample_units: list[str]  # station ids for the bare baseline's lists
    reported_final: set[str] = field(default_factory=set)  # consumed by earlier phases


def _spread(items: list, count: int) -> list:  # type: ignore[type-arg]
    step = max(1, len(items) // count)
    return items[::step][:count]


async def mint(url: str, provinces: list[Province]) -> Pools:
    from app.auth.caller import Caller
    from app.auth.models import Role
    from app.auth.service import create_key
    from app.db import dispose_engine, sessionmaker

    out: list[ProvinceKeys] = []
    try:
        async with sessionmaker()() as session, session.begin():
            for p in provinces:
                operator = Caller(key_id=None, unit_id=p.root.id, role=Role.admin)

                async def key(unit_id: object, role: Role, name: str, operator: Caller = operator) -> str:
                    _, secret = await create_key(session, operator, name=name, role=role, unit_id=unit_id, unit_code=None)  # type: ignore[arg-type]
                    return secret

                keys = ProvinceKeys(
                    p.code, str(p.root.id), p.root.code, await key(p.root.id, Role.admin, "bench admin"),
                    await key(p.root.id, Role.issuer, "bench issuer"), await key(p.root.id, Role.reader, "bench reader"),
                    [o.code for o in p.offices], [hc.unit.code for hc in p.health_centres],
                )
                for station in _spread(p.stations, STATIONS_PER_PROVINCE):
                    keys.stations.append(StationKey(await key(station.id, Role.member, f"app {station.code}"), str(station.id), [], []))
                for hc in _spread(p.health_centres, CENTRES_PER_PROVINCE):
                    keys.centres.append(await key(hc.unit.id, Role.member, f"app {hc.unit.code}"))
                out.append(keys)
    finally:
        await dispose_engine()
    await _fill_ids(url, out)
    return Pools(out, *await _samples(url))


async def _fill_ids(url: str, provinces: list[ProvinceKeys]) -> None:
    conn = await asyncpg.connect(url)
    try:
        stations = {s.unit_id: s for p in provinces for s in p.stations}
        rows = await conn.fetch(
            """
            SELECT unit_id::text,
                   (array_agg(id::text ORDER BY random()))[1:200] AS ids,
                   (array_agg(id::text ORDER BY random()) FILTER (WHERE status IN ('pending', 'in_progress')))[1:100] AS open_ids
            FROM assignments WHERE unit_id = ANY($1::uuid[]) GROUP BY unit_id
            """,
            list(stations),
        )
        for r in rows:
            stations[r["unit_id"]].ids, stations[r["unit_id"]].open_ids = r["ids"], r["open_ids"] or []
    finally:
        await conn.close()


async def _samples(url: str) -> tuple[list[str], list[str]]:
    conn = await asyncpg.connect(url)
    try:
        ids = [r[0] for r in await conn.fetch("SELECT id::text FROM assignments TABLESAMPLE SYSTEM (2) LIMIT 20000")]
        units = [r[0] for r in await conn.fetch("SELECT id::text FROM units WHERE kind = 'commune_health_station' ORDER BY random() LIMIT 2000")]
        return ids, units
    finally:
        await conn.close()
