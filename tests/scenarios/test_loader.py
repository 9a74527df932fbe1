"""The schema and loader: every library file loads, every broken file is refused precisely."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

from chargebench.yamlpos import load_with_positions
from scenarios.loader import LIBRARY, SCHEMA, ScenarioError, load_scenario

BROKEN = Path(__file__).parent / "broken"
LIBRARY_FILES = sorted(LIBRARY.glob("*.yaml")) + sorted(LIBRARY.glob("flows/*.yaml"))


def test_schema_is_valid_json_schema():
    """schema.json is itself a valid 2020-12 schema."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: p.name)
def test_library_file_matches_schema(path):
    """Every library file (flows included) validates against schema.json as written."""
    data, _ = load_with_positions(path)
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.yaml")), ids=lambda p: p.name)
def test_library_scenario_loads(path):
    """Every library scenario passes the semantic checks too (includes, targets, matchers)."""
    scenario = load_scenario(path)
    assert scenario.steps and scenario.name


def test_library_covers_the_issue():
    """The library has the flows the issue asks for."""
    names = {p.stem for p in LIBRARY.glob("*.yaml")}
    assert {"cold_boot_accepted", "cold_boot_pending", "cold_boot_rejected",
            "charging_plug_in_first", "charging_authorize_first", "remote_start_stop",
            "tags_invalid_blocked_expired", "offline_transaction", "firmware_update",
            "diagnostics_upload", "local_list", "reservation", "smart_charging",
            "security_profile_upgrade", "trigger_message", "reset_with_transaction",
            "fleet_day"} <= names


def expectations(path: Path) -> list[tuple[str, str]]:
    """The `# expect: LINE:COL text` header lines of a broken file."""
    found = re.findall(r"^# expect: (\d+:\d+) (.+)$", path.read_text(), flags=re.M)
    assert found, f"{path.name} has no '# expect:' header"
    return found


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_broken_file_is_refused_with_position(path):
    """Each broken file gives exactly the expected FILE:LINE:COL: field problems."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    problems = caught.value.problems
    wanted = expectations(path)
    for spot, text in wanted:
        prefix = f"{path}:{spot}: "
        assert any(p.startswith(prefix) and text in p for p in problems), (spot, text, problems)
    assert len(problems) == len(wanted), problems


def test_every_violation_is_reported_at_once():
    """A file with six mistakes gets six problems, in file order, before anything runs."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(BROKEN / "many_errors.yaml")
    lines = [int(p.split(":")[1]) for p in caught.value.problems]
    assert len(lines) == 6 and lines == sorted(lines)


def test_fleet_ids_groups_and_targets(tmp_path):
    """Id patterns expand per group; a step's cp: resolves ids, groups and all."""
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "name: f\nfleet:\n  - {group: ac, count: 3, id: 'AC-{n:02}'}\n"
        "  - {group: dc, ids: [DC-X]}\nsteps:\n  - boot:\n    cp: [dc, AC-02]\n"
    )
    scenario = load_scenario(path)
    assert scenario.charge_points == ["AC-01", "AC-02", "AC-03", "DC-X"]
    assert scenario.resolve_target(scenario.steps[0].on) == ["DC-X", "AC-02"]
    assert scenario.resolve_target(None) == scenario.charge_points


def test_include_inlines_steps_with_scope():
    """An include brings the flow's steps, its variables and the with: overrides."""
    scenario = load_scenario(LIBRARY / "charging_plug_in_first.yaml")
    include = next(step for step in scenario.steps if step.verb == "include")
    assert include.children[0].verb == "plug_in"
    assert include.scope["duration"] == "1h" and include.scope["tag"] == "TAG-ALICE"
    assert include.children[0].where.endswith("session_plug_in_first.yaml:10")
