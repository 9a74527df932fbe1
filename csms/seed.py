"""Load a YAML seed (locations, chargers, id tags, tariffs) into the CSMS store.

    store = open_store("csms.db")
    load_seed(store, "csms/seed_example.yaml")      # raises SeedError listing every problem

Every problem is one line, `FILE:LINE:COL: field.path: reason`, so editors jump to it. The seed
is checked completely (JSON Schema, then cross references) before anything is written, and then
written in one store transaction: a seed is loaded whole or not at all.

Command line: `python -m csms.seed SEED.yaml [--db csms.db]` (without --db: check only).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from chargebench.yamlpos import (
    Positions,
    YamlFileError,
    dotted,
    load_file,
    schema_violations,
)
from csms.store.base import Store
from csms.store.passwords import DEFAULT_N

DEFAULT_CURRENCY = "INR"  # seeds/001 §5.4


class SeedError(ValueError):
    """The seed file is unusable; `errors` holds one `FILE:LINE:COL: field: reason` per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """What `load_seed` wrote, for a log line."""

    locations: int
    chargers: int
    connectors: int
    id_tags: int
    tariffs: int


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(resources.files("csms").joinpath("seed_schema.json").read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def read_seed(path: str | Path) -> dict[str, Any]:
    """Parse and check a seed file; return its data or raise SeedError with every problem."""
    source = str(path)
    try:
        data, positions = load_file(path)
    except YamlFileError as exc:
        raise SeedError([str(exc)]) from None
    if data is None:
        data = {}
    found = schema_violations(_validator(), data, positions, source)
    found += _cross_check(data, positions, source)
    if found:
        raise SeedError([message for _, _, message in sorted(found)])
    return data


def _cross_check(data: Any, positions: Positions, source: str) -> list[tuple[int, int, str]]:
    """What JSON Schema cannot say: unique ids, references that resolve, parseable dates.

    Written to tolerate shapes the schema already rejected, so all problems surface at once.
    """
    found: list[tuple[int, int, str]] = []

    def add(path: Sequence[Hashable], reason: str) -> None:
        line, col = positions.locate(path)
        found.append((line, col, f"{source}:{line}:{col}: {dotted(path)}: {reason}"))

    def items(section: str) -> list[tuple[int, dict[str, Any]]]:
        value = data.get(section) if isinstance(data, dict) else None
        if not isinstance(value, list):
            return []
        return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]

    def unique(section: str, key: str) -> set[Any]:
        seen: dict[Any, int] = {}
        for i, item in items(section):
            value = item.get(key)
            if not isinstance(value, Hashable) or value is None:
                continue
            if value in seen:
                add((section, i, key), f"duplicate {value!r} (first in {section}[{seen[value]}])")
            else:
                seen[value] = i
        return set(seen)

    locations = unique("locations", "id")
    chargers = unique("chargers", "id")
    unique("id_tags", "id_tag")

    for i, charger in items("chargers"):
        location = charger.get("location")
        if isinstance(location, str) and location not in locations:
            add(("chargers", i, "location"), f"unknown location {location!r}")
        connectors = charger.get("connectors")
        seen_connectors: dict[Any, int] = {}
        for j, connector in enumerate(connectors if isinstance(connectors, list) else []):
            cid = connector.get("id") if isinstance(connector, dict) else None
            if isinstance(cid, int) and cid in seen_connectors:
                add(("chargers", i, "connectors", j, "id"), f"duplicate connector id {cid}")
            seen_connectors.setdefault(cid, j)

    for i, tag in items("id_tags"):
        if (
            "expiry" in tag
            and isinstance(tag["expiry"], str)
            and _parse_time(tag["expiry"]) is None
        ):
            add(("id_tags", i, "expiry"), f"{tag['expiry']!r} is not an ISO-8601 date-time")
        if tag.get("parent") is not None and tag.get("parent") == tag.get("id_tag"):
            add(("id_tags", i, "parent"), "a tag cannot be its own parent")

    tariff_targets: dict[Any, int] = {}
    for i, tariff in items("tariffs"):
        target = tariff.get("charger")
        if isinstance(target, str) and target not in chargers:
            add(("tariffs", i, "charger"), f"unknown charger {target!r}")
        if not isinstance(target, Hashable):
            continue
        if target in tariff_targets:
            what = "global tariff" if target is None else f"tariff for {target!r}"
            add(("tariffs", i), f"second {what} (first in tariffs[{tariff_targets[target]}])")
        else:
            tariff_targets[target] = i
    return found


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def apply_seed(
    store: Store, data: dict[str, Any], *, password_cost: int = DEFAULT_N
) -> SeedSummary:
    """Write checked seed data (from `read_seed`) in one transaction; upserts, so re-runnable.

    `password_cost` is scrypt's n: lower it only for large throwaway fleets (load tests).
    """
    currency = data.get("currency", DEFAULT_CURRENCY)
    connectors = 0
    with store.unit_of_work() as uow:
        for location in data.get("locations", []):
            uow.upsert_location(
                location["id"],
                location["name"],
                address=location.get("address"),
                timezone=location.get("timezone"),
                latitude=location.get("latitude"),
                longitude=location.get("longitude"),
            )
        for charger in data.get("chargers", []):
            uow.upsert_charger(
                charger["id"],
                location_id=charger.get("location"),
                serial=charger.get("serial"),
                vendor=charger.get("vendor"),
                model=charger.get("model"),
                security_profile=charger.get("security_profile", 0),
                registration_status=charger.get("registration", "Accepted"),
            )
            if "password" in charger:
                uow.set_charger_password(charger["id"], charger["password"], n=password_cost)
            for connector in charger.get("connectors", []):
                power = connector.get("max_power_kw")
                uow.upsert_connector(
                    charger["id"],
                    connector["id"],
                    connector_type=connector.get("type"),
                    # kW from YAML may be a float: go through its text, not its binary value
                    max_power_w=None if power is None else int(Decimal(str(power)) * 1000),
                )
                connectors += 1
        for tag in data.get("id_tags", []):
            uow.upsert_id_tag(
                tag["id_tag"],
                status=tag.get("status", "Accepted"),
                expiry_date=tag.get("expiry"),
                parent_id_tag=tag.get("parent"),
                token_type=tag.get("type"),
            )
        for tariff in data.get("tariffs", []):
            uow.set_tariff(
                tariff.get("charger"),
                Decimal(tariff["rate_per_kwh"]),
                tariff.get("currency", currency),
            )
    return SeedSummary(
        locations=len(data.get("locations", [])),
        chargers=len(data.get("chargers", [])),
        connectors=connectors,
        id_tags=len(data.get("id_tags", [])),
        tariffs=len(data.get("tariffs", [])),
    )


def load_seed(store: Store, path: str | Path, *, password_cost: int = DEFAULT_N) -> SeedSummary:
    """`read_seed` then `apply_seed`: raises SeedError and writes nothing if anything is wrong."""
    return apply_seed(store, read_seed(path), password_cost=password_cost)


def main(argv: list[str] | None = None) -> int:
    """Check a seed file, and load it when --db is given. Exit 0 ok, 2 seed problems."""
    parser = argparse.ArgumentParser(prog="python -m csms.seed", description=main.__doc__)
    parser.add_argument("seed", type=Path)
    parser.add_argument("--db", help="store to load into, a SQLite file or sqlite:///FILE (omit to"
                        " only check)")
    args = parser.parse_args(argv)
    try:
        data = read_seed(args.seed)
    except SeedError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.db is None:
        print(f"{args.seed}: ok")
        return 0
    from csms.store import StoreError, open_store

    try:
        store = open_store(args.db)
    except StoreError as exc:
        print(f"--db: {exc}", file=sys.stderr)
        return 2
    with store:
        summary = apply_seed(store, data)
    print(f"{args.seed}: loaded into {args.db}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
