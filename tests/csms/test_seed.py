"""Seed files: the demo loads; broken files are reported as FILE:LINE:COL: field: reason."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from chargebench.yamlpos import DuplicateKeyError, dotted, load_with_positions
from csms.seed import SeedError, load_seed, main, read_seed
from csms.store import Store, open_store
from csms.v201.tokens import ID_TOKEN_TYPES

EXAMPLE = Path(str(resources.files("csms").joinpath("seed_example.yaml")))


def write(tmp_path: Path, text: str, name: str = "seed.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    """The SeedError lines `read_seed(path)` raises (fails the test if it does not raise)."""
    with pytest.raises(SeedError) as caught:
        read_seed(path)
    return caught.value.errors


@pytest.fixture
def store(tmp_path: Path):
    with open_store(tmp_path / "csms.db") as s:
        yield s


class TestExampleSeed:
    def test_loads_everything(self, store: Store) -> None:
        """The demo seed loads 1 location, 3 chargers x 2 connectors, tags and tariffs."""
        summary = load_seed(store, EXAMPLE, password_cost=2**4)
        assert (summary.locations, summary.chargers, summary.connectors) == (1, 3, 6)
        assert [c["id"] for c in store.list_chargers(location_id="LOC-BLR-01")] == [
            "CP001", "CP002", "CP003"
        ]  # fmt: skip
        assert store.get_connector("CP003", 1)["max_power_w"] == 60000
        assert store.get_connector("CP002", 2)["max_power_w"] == 7400  # 7.4 kW, no float drift
        assert store.get_charger("CP003")["registration_status"] == "Pending"

    def test_profile_one_charger_has_verifiable_password(self, store: Store) -> None:
        """The profile-1 charger's key is stored hashed and verifies."""
        load_seed(store, EXAMPLE, password_cost=2**4)
        charger = store.get_charger("CP002")
        assert charger["security_profile"] == 1 and charger["has_password"]
        assert store.verify_charger_password("CP002", "demo-key-CP002-0123456789")

    def test_tags_and_tariffs(self, store: Store) -> None:
        """Tags keep status, expiry and parent group; tariffs are Decimal with a global fallback."""
        load_seed(store, EXAMPLE, password_cost=2**4)
        statuses = {t["id_tag"]: t["status"] for t in store.list_id_tags()}
        assert {"Accepted", "Blocked", "Expired", "Invalid"} <= set(statuses.values())
        tag = store.get_id_tag("TAG-ACCEPTED")
        assert tag["parent_id_tag"] == "FLEET-ACME"
        assert tag["expiry_date"] == "2035-12-31T23:59:59.000000Z"
        assert store.get_tariff("CP003")["rate_per_kwh"] == Decimal("18.50")
        fallback = store.get_tariff("CP001")
        assert (fallback["rate_per_kwh"], fallback["currency"]) == (Decimal("12.00"), "INR")

    def test_reloading_is_idempotent(self, store: Store) -> None:
        """Loading the same seed twice leaves the same data (upserts)."""
        load_seed(store, EXAMPLE, password_cost=2**4)
        load_seed(store, EXAMPLE, password_cost=2**4)
        assert len(store.list_chargers()) == 3 and len(store.list_tariffs()) == 2


BROKEN = """
currency: inr
locations:
  - id: L1
    name: Hub
  - id: L1
chargers:
  - id: CP1
    location: NOWHERE
    security_profile: 1
    colour: red
    connectors:
      - {id: 1}
      - {id: 1, max_power_kw: -3}
id_tags:
  - {id_tag: THIS-TAG-IS-FAR-TOO-LONG-FOR-EITHER-OCPP-VERSION, status: Blockd}
  - {id_tag: T2, expiry: "next tuesday"}
tariffs:
  - {rate_per_kwh: 10.5}
  - {charger: CPX, rate_per_kwh: "10.505"}
"""


class TestBrokenSeed:
    def test_all_violations_reported_at_once(self, tmp_path: Path) -> None:
        """Every problem of a broken seed is reported together, each with file:line:col: field."""
        path = write(tmp_path, BROKEN)
        with pytest.raises(SeedError) as caught:
            read_seed(path)
        errors = caught.value.errors
        expected = [
            (1, 11, "currency"),
            (5, 5, "locations[1].name"),
            (5, 9, "locations[1].id"),
            (7, 5, "chargers[0].password"),
            (8, 15, "chargers[0].location"),
            (10, 5, "chargers[0].colour"),
            (13, 14, "chargers[0].connectors[1].id"),
            (13, 31, "chargers[0].connectors[1].max_power_kw"),
            (15, 14, "id_tags[0].id_tag"),
            (15, 72, "id_tags[0].status"),
            (16, 26, "id_tags[1].expiry"),
            (18, 20, "tariffs[0].rate_per_kwh"),
            (19, 15, "tariffs[1].charger"),
            (19, 34, "tariffs[1].rate_per_kwh"),
        ]
        assert [e.split(": ")[0:2] for e in errors] == [
            [f"{path}:{line}:{col}", field] for line, col, field in expected
        ]
        assert str(caught.value).count("\n") == len(expected) - 1  # one line per problem

    def test_reasons_are_readable(self, tmp_path: Path) -> None:
        """Reasons say what is wrong in words, not just which schema keyword failed."""
        errors = "\n".join(errors_of(write(tmp_path, BROKEN)))
        assert "locations[1].id: duplicate 'L1' (first in locations[0])" in errors
        assert "chargers[0].password: required field is missing" in errors
        assert "chargers[0].location: unknown location 'NOWHERE'" in errors
        assert "chargers[0].colour: unknown field (allowed: connectors, id," in errors
        assert "'Blockd' is not one of ['Accepted', 'Blocked', 'Expired', 'Invalid']" in errors
        assert "id_tags[1].expiry: 'next tuesday' is not an ISO-8601 date-time" in errors
        assert "'10.505' is not valid: Quoted decimal with at most 2 places" in errors
        assert "10.5 is not of type 'string'" in errors

    def test_nothing_written_when_invalid(self, tmp_path: Path, store: Store) -> None:
        """A seed with any problem writes nothing at all."""
        with pytest.raises(SeedError):
            load_seed(store, write(tmp_path, BROKEN))
        assert store.list_locations() == [] and store.list_chargers() == []

    def test_yaml_syntax_error_has_position(self, tmp_path: Path) -> None:
        """A YAML syntax error is one line with its position."""
        path = write(tmp_path, "chargers:\n  - id: [CP1\n  - id: CP2\n")
        (error,) = errors_of(path)
        assert error.startswith(f"{path}:3:") and "YAML syntax" in error

    def test_duplicate_key_is_an_error(self, tmp_path: Path) -> None:
        """A key written twice is reported at the second occurrence, not silently replaced."""
        path = write(tmp_path, "chargers:\n  - id: CP1\n    id: CP2\n")
        (error,) = errors_of(path)
        assert error.startswith(f"{path}:3:5: YAML syntax: found duplicate key 'id'")

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is a SeedError naming it, not a traceback."""
        (error,) = errors_of(tmp_path / "nope.yaml")
        assert "nope.yaml:1:1: cannot read" in error

    def test_second_global_tariff_and_self_parent(self, tmp_path: Path) -> None:
        """Two global tariffs and a tag that is its own parent are rejected."""
        path = write(
            tmp_path,
            """
            id_tags:
              - {id_tag: G, parent: G}
            tariffs:
              - {rate_per_kwh: "10"}
              - {rate_per_kwh: "11"}
            """,
        )
        errors = errors_of(path)
        assert [e.split(": ", 2)[1:] for e in errors] == [
            ["id_tags[0].parent", "a tag cannot be its own parent"],
            ["tariffs[1]", "second global tariff (first in tariffs[0])"],
        ]

    def test_empty_file_is_an_empty_seed(self, tmp_path: Path, store: Store) -> None:
        """An empty seed is valid and loads nothing."""
        assert load_seed(store, write(tmp_path, "")).chargers == 0


class TestCommandLine:
    def test_check_and_load(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`python -m csms.seed` exits 0 on a good seed (and loads it with --db), 2 on a bad one."""
        assert main([str(EXAMPLE)]) == 0
        db = tmp_path / "x.db"
        assert main([str(EXAMPLE), "--db", str(db)]) == 0
        with open_store(db) as store:
            assert len(store.list_chargers()) == 3
        assert main([str(write(tmp_path, BROKEN))]) == 2
        assert "chargers[0].colour" in capsys.readouterr().err


class TestYamlPositions:
    def test_locate_values_keys_and_missing_paths(self, tmp_path: Path) -> None:
        """locate() gives 1-based positions of values; missing paths fall back to the parent."""
        data, locate = load_with_positions(
            write(tmp_path, "a:\n  b: [1, {c: x}]\n  when: 2030-01-01T00:00:00Z\n")
        )
        assert data == {"a": {"b": [1, {"c": "x"}], "when": "2030-01-01T00:00:00Z"}}
        assert locate(("a", "b", 1, "c")) == (2, 14)
        assert locate(("a", "missing")) == (2, 3)
        assert locate.locate_key(("a", "when")) == (3, 3)
        assert locate(()) == (1, 1)

    def test_merge_keys_may_override(self, tmp_path: Path) -> None:
        """A key overriding a `<<` merge is legal, not a duplicate."""
        path = write(tmp_path, "base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n")
        data, locate = load_with_positions(path)
        assert data["c"] == {"x": 1, "y": 3} and locate(("c", "y")) == (4, 6)

    def test_duplicate_key_raises(self, tmp_path: Path) -> None:
        """A duplicate key raises DuplicateKeyError pointing at the second key."""
        with pytest.raises(DuplicateKeyError) as caught:
            load_with_positions(write(tmp_path, "a: 1\nb: 2\na: 3\n"))
        assert caught.value.problem_mark.line == 2

    def test_dotted(self) -> None:
        """Paths print as field.path with [index] for list items."""
        assert dotted(("chargers", 0, "connectors", 1, "id")) == "chargers[0].connectors[1].id"
        assert dotted(()) == "(root)"


def test_an_id_tag_type_is_an_id_token_type_of_the_schema(tmp_path: Path, store: Store) -> None:
    """`type` is the 2.0.1 IdTokenEnumType (the seed schema's list is the `ocpp` package's);
    another word is FILE:LINE:COL."""
    schema = json.loads(resources.files("csms").joinpath("seed_schema.json").read_text())
    assert tuple(schema["$defs"]["id_tag"]["properties"]["type"]["enum"]) == ID_TOKEN_TYPES
    good = write(tmp_path, """
        id_tags:
          - id_tag: CARD-1
            type: ISO14443
    """)
    load_seed(store, good)
    assert store.get_id_tag("CARD-1")["token_type"] == "ISO14443"
    bad = write(tmp_path, """
        id_tags:
          - id_tag: CARD-2
            type: Badge
    """, "bad.yaml")
    [error] = errors_of(bad)
    assert error.startswith(f"{bad}:3:")
