"""The store side of a boot storm alone: where PostgreSQL's time goes, beside SQLite.

    python -m loadtest.bench_store_boot --cps 3000 --db postgresql://USER@HOST:PORT/DB

Runs the store calls the CSMS makes for each charger's boot (admission: `charger_or_case_twin`;
the connection: `connect_charger`; BootNotification; three StatusNotifications) through
`csms.groupcommit.GroupCommitter`, `--in-flight` chargers at a time (the fleet's
`max_handshakes`), each charger's calls in order, no websockets. First on a SQLite file (the
baseline), then on a scratch database of the PostgreSQL server (`--db`; default: a throw-away
server, `loadtest.bench_fleet.postgres_server`), and prints per store: seconds, groups, and the
PostgreSQL round trips per boot, with the statements that make them and the time spent waiting
for each, and this process's CPU seconds (steadier than wall time on a shared machine; the
database server's own are not in them); then checks that every boot's writes are there (three
connectors per charger). This is how the PostgreSQL store's round trips were counted (issue
17.4); `bench_fleet` measures the whole CSMS.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATUSES = 3  # connector 0 and two connectors: ChargeBench's default charge point


async def _boot(db: Any, cp: str, now: datetime) -> None:
    await db.run(lambda uow: uow.charger_or_case_twin(cp))
    await db.run(lambda uow: uow.connect_charger(cp, profile=0, session="bench", timestamp=now,
                                                 create=True, registration_status="Accepted"))
    await db.run(lambda uow: uow.record_boot(cp, vendor="ChargeBench", model="bench"))
    for connector in range(STATUSES):
        await db.run(lambda uow, c=connector: uow.record_status(cp, c, "Available"))


def _cpu() -> float:
    """This process's CPU seconds so far: steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(db_url: str, cps: int, in_flight: int, workers: int | None = None) -> dict[str, Any]:
    """Boot `cps` chargers' store calls on `db_url`; seconds, groups and round trips."""
    from csms.groupcommit import GroupCommitter
    from csms.store import open_store, postgres

    counts: collections.Counter[str] = collections.Counter()
    waits: collections.Counter[str] = collections.Counter()
    original = postgres._PgConnection._attempt

    def counted(self: Any, sql: str, send: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(self, sql, send, **kwargs)
        finally:
            key = " ".join(sql.split()[:3])[:40]
            counts[key] += 1
            waits[key] += time.perf_counter() - began

    async def main() -> tuple[float, int]:
        with open_store(db_url, synchronous="NORMAL") as store:
            committer = GroupCommitter(store, workers=workers)
            gate = asyncio.Semaphore(in_flight)
            now = datetime.now(UTC)

            async def one(n: int) -> None:
                async with gate:
                    await _boot(committer, f"SB{n:05d}", now)

            began = time.perf_counter()
            await asyncio.gather(*(one(n) for n in range(cps)))
            took = time.perf_counter() - began
            await committer.close()
            written = len(store.list_connectors())
            if written != cps * STATUSES:  # a deferred write lost would be a bug, not a figure
                raise SystemExit(f"bench_store_boot: {written} connectors written, expected "
                                 f"{cps * STATUSES}")
            return took, committer.groups

    postgres._PgConnection._attempt = counted  # type: ignore[method-assign]
    cpu_before = _cpu()
    try:
        took, groups = asyncio.run(main())
    finally:
        postgres._PgConnection._attempt = original  # type: ignore[method-assign]
    return {"seconds": took, "groups": groups, "round_trips": sum(counts.values()),
            "cpu": _cpu() - cpu_before,
            "statements": [(n, waits[k], k) for k, n in counts.most_common(10)]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_store_boot",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--cps", type=int, default=3000, help="chargers (default 3000)")
    parser.add_argument("--in-flight", type=int, default=200,
                        help="chargers booting at once (default 200, the fleet's)")
    parser.add_argument("--workers", type=int, default=None,
                        help="groups at once on PostgreSQL (default: the store's)")
    parser.add_argument("--db", metavar="postgresql://USER@HOST:PORT/DB",
                        help="the PostgreSQL server (a scratch database is made on it; default: "
                        "a throw-away server, as bench_fleet's)")
    args = parser.parse_args(argv)
    if not 1 <= args.cps <= 100000 or not 1 <= args.in_flight <= 10000:
        parser.error("--cps must be in 1..100000 and --in-flight in 1..10000")
    from csms.store import StoreError
    from csms.store.opening import store_file
    from loadtest.bench_fleet import postgres_server, scratch_database

    try:
        if args.db is not None and store_file(args.db) is not None:
            parser.error("--db takes a postgresql:// URL (SQLite is always measured)")
    except StoreError as error:
        parser.error(f"--db: {error}")
    with tempfile.TemporaryDirectory(prefix="chargebench-store-boot-") as folder:
        sqlite = measure(str(Path(folder) / "csms.db"), args.cps, args.in_flight)
    with postgres_server(args.db) as server, scratch_database(server) as url:
        pg = measure(url, args.cps, args.in_flight, args.workers)
    print(f"cps={args.cps} in_flight={args.in_flight}")
    print(f"sqlite_s={sqlite['seconds']:.2f} sqlite_cpu_s={sqlite['cpu']:.2f} "
          f"sqlite_groups={sqlite['groups']}")
    print(f"postgresql_s={pg['seconds']:.2f} postgresql_cpu_s={pg['cpu']:.2f} "
          f"postgresql_groups={pg['groups']} "
          f"round_trips_per_boot={pg['round_trips'] / args.cps:.1f}")
    print(f"pg/sqlite={pg['seconds'] / sqlite['seconds']:.2f} "
          f"cpu pg/sqlite={pg['cpu'] / sqlite['cpu']:.2f}")
    for count, wait, statement in pg["statements"]:
        print(f"  {count:7d} round trips {wait:8.2f} s waited  {statement}")


if __name__ == "__main__":
    main()
