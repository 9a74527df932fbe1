"""The OCPP 2.0.1 catalogue against the specification in ../shared: every part 6 case once, in
its role and block, with its requirement ids, and in exactly the certification profiles part 5
lists it in. The checks count the spec's own tables with plain patterns of their own, not with
the build script's parser, so a parser bug cannot agree with itself."""

from __future__ import annotations

import html
import re
from collections import Counter

import pytest

from conformance.v201 import build_catalog
from conformance.v201.catalog import NO_PROFILE, PROFILES, Case, load_catalog, role_of
from tests.conformance.v201.spec import SPEC, needs_spec

CATALOG = load_catalog()


def _part6() -> str:
    return (SPEC / build_catalog.PART6).read_text(encoding="utf-8")


def _part5() -> str:
    return (SPEC / build_catalog.PART5).read_text(encoding="utf-8")


@needs_spec
def test_catalogue_is_what_the_spec_builds():
    """catalog.yaml is the build script's output for the spec in ../shared: nobody edited it and
    the script did not change without regenerating it."""
    cases, notes = build_catalog.build(SPEC)
    committed = build_catalog.OUT.read_text(encoding="utf-8")
    assert build_catalog.render(cases, notes) == committed, (
        "catalog.yaml is stale: python -m conformance.v201.build_catalog ../shared/ocpp-spec/2.0.1")


@needs_spec
def test_every_part6_case_is_catalogued_once_per_role():
    """Part 6 chapter 2 tests a Charging Station, chapter 3 a CSMS: one table per case headed
    "Table N. Test Case Id: ...". The catalogue holds as many cases per role as each chapter has
    tables, each id once, and the ids the headings give (block letter from the chapter the table
    stands in: the conversion prints O as 0 and once a block's wrong letter)."""
    text = _part6()
    split = text.index("\n# 3. Test Cases Charging Station Management System")
    spec_ids: dict[str, list[str]] = {"cs": [], "csms": []}
    block = None
    for line in text.splitlines(keepends=True):
        chapter = re.match(r"# [23]\.\d+\. (?:([A-P]) )?", line)
        if chapter:
            block = chapter[1]
        heading = re.match(r"(?:Table \d+\. )?Test Case Id: TC_\w_(\d+)_(CS|CSMS)\s*$", line)
        if heading:
            assert block, line
            role = "cs" if heading[2] == "CS" else "csms"
            spec_ids[role].append(f"TC_{block}_{heading[1]}_{heading[2]}")
    tables = {"cs": text[:split].count("<td>Test case Id</td>"),
              "csms": text[split:].count("<td>Test case Id</td>")}
    tested = Counter(re.findall(r"Test case Id</td>.*?System under test</td><td[^>]*>\s*"
                                r"(Charging Station|CSMS)", text))
    catalogued = Counter(case.role for case in CATALOG.values())
    print(f"part 6 case tables: {tables}; 'System under test' rows: {dict(tested)}; "
          f"catalogue: {dict(catalogued)}")
    assert tables == {"cs": len(spec_ids["cs"]), "csms": len(spec_ids["csms"])}
    assert tested == Counter({"Charging Station": tables["cs"], "CSMS": tables["csms"]})
    assert catalogued == Counter(tables)
    assert (catalogued["cs"], catalogued["csms"]) == (424, 250)  # Edition 3 as stored
    for role, ids in spec_ids.items():
        assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
        assert set(ids) == {c.id for c in CATALOG.values() if c.role == role}


@needs_spec
def test_requirement_ids_come_from_the_requirement_rows():
    """Every FR id a case's "Requirement(s)" row names (in any of its printed spellings) is in
    the catalogue entry, and nothing else; "N/a" rows give none."""
    text = _part6()
    by_title: dict[str, set[str]] = {}
    for table in re.findall(r"<table>(.*?)</table>", text, re.S):
        case_id = re.search(r"Test case Id</td><td[^>]*>(.*?)</td>", table)
        rows = re.search(r"Requirement\(s\)</td><td[^>]*>(.*?)</td>", table, re.S)
        if case_id and rows:
            found = {f"{'O' if a == '0' else 'I' if a == '1' else a}{b}.FR.{c}" for a, b, c
                     in re.findall(r"([A-P01])(\d{2,3})[._]FR[._](\d+)", html.unescape(rows[1]))}
            title = re.search(r"Test case name</td><td[^>]*>(.*?)</td>", table)[1]
            by_title.setdefault(html.unescape(title).strip(), set()).update(found)
    assert sum(len(c.requirements) for c in CATALOG.values()) > 1300
    for case in CATALOG.values():
        assert set(case.requirements) <= by_title[case.title], case.id
    assert CATALOG["TC_B_01_CS"].requirements == ("B01.FR.01", "B01.FR.05", "B01.FR.09")
    assert "C09.FR.02" in {r for c in CATALOG.values() for r in c.requirements}  # was C09_FR_02


def _part5_cells() -> dict[str, Counter]:
    """Per profile of part 5 §4.2-§4.9: how many case rows mark the Charging Station column,
    and how many the CSMS column (M, C or a condition standing for C)."""
    text = _part5()
    section5 = re.search(r"^# 5\. ", text, re.M)
    assert section5 is not None
    text = text[:section5.start()]
    starts = [(m.start(), m[1].strip()) for m in
              re.finditer(r"^(?:# )?4\.[2-9]\. Test Cases ([^\n]+?)\s*$", text, re.M)
              if not re.search(r"\d$", m[1].strip())]
    counts: dict[str, Counter] = {}
    for index, (start, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(text)
        key = build_catalog.PROFILE_KEYS[name]
        counts[key] = Counter()
        for row in re.findall(r"<tr><td>TC_\w_\d+</td>(.*?)</tr>", text[start:end]):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
            counts[key]["cs"] += bool(cells[1].strip())
            counts[key]["csms"] += bool(cells[2].strip())
    return counts


@needs_spec
def test_profiles_are_those_of_part5():
    """Each profile holds as many cases per role as part 5's table marks in that role's column,
    less the one part 5 lists and part 6 does not define (TC_N_21_CSMS, a note in the catalogue);
    spot checks of M, C with its feature, multi-profile cases and the misprinted ids."""
    cells = _part5_cells()
    assert set(cells) == set(PROFILES)
    _, notes = build_catalog.build(SPEC)
    assert notes == ["part 5 advanced_device_management lists TC_N_21_CSMS (M); "
                     "part 6 has no such case"]
    for profile in PROFILES:
        ours = Counter(c.role for c in CATALOG.values() if profile in c.profiles)
        expected = cells[profile] - (Counter({"csms": 1}) if profile ==
                                     "advanced_device_management" else Counter())
        print(f"{PROFILES[profile]}: cs {ours['cs']}, csms {ours['csms']}")
        assert ours == expected, profile
    none = Counter(c.role for c in CATALOG.values() if c.profiles == (NO_PROFILE,))
    print(f"in no profile: cs {none['cs']}, csms {none['csms']}")
    levels = {c.id: dict(c.levels) for c in CATALOG.values()}
    conditions = {c.id: dict(c.conditions) for c in CATALOG.values()}
    assert levels["TC_B_01_CS"] == {"core": "M"} and levels["TC_B_01_CSMS"] == {"core": "M"}
    assert levels["TC_B_02_CSMS"] == {"core": "C"} and conditions["TC_B_02_CSMS"]["core"] == "C-44"
    assert levels["TC_K_01_CS"] == {"smart_charging": "M", "iso15118": "M"}
    assert "advanced_user_interface" in levels["TC_I_01_CS"]  # part 5 prints TC_L_01
    assert "advanced_user_interface" not in levels["TC_L_01_CS"]
    assert CATALOG["TC_L_01_CS"].title == "Secure Firmware Update - Installation successful"
    assert CATALOG["TC_C_58_CS"].block == "C" and CATALOG["TC_O_02_CS"].block == "O"
    assert "TC_H_05_CS" not in CATALOG  # part 5 lists TC_H_05 with neither M nor C


def test_loader_refuses_a_broken_catalogue():
    """A duplicate id, a role its suffix contradicts, or an unknown profile: one error each."""
    entry = "  - {id: TC_B_01_CS, role: cs, block: B, title: x, profiles: {core: M}}\n"
    with pytest.raises(ValueError, match="listed twice"):
        load_catalog("cases:\n" + entry + entry)
    with pytest.raises(ValueError, match="suffix"):
        load_catalog("cases:\n" + entry.replace("role: cs", "role: csms"))
    with pytest.raises(ValueError, match="unknown profiles"):
        load_catalog("cases:\n" + entry.replace("core", "kore"))
    with pytest.raises(ValueError, match="not M or C"):
        load_catalog("cases:\n" + entry.replace("core: M", "core: X"))
    (case,) = load_catalog("cases:\n" + entry).values()
    assert case == Case("TC_B_01_CS", "cs", "B", "x", levels=(("core", "M"),))
    assert (case.profiles, case.full_id) == (("core",), "TC_B_01_CS")
    assert (role_of("TC_B_01_CS"), role_of("TC_B_01_CSMS"), role_of("TC_001")) == (
        "cs", "csms", None)


def test_build_script_reports_a_missing_spec_in_one_line(tmp_path, capsys):
    assert build_catalog.main([str(tmp_path), "-o", str(tmp_path / "out.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("build_catalog: ") and err.count("\n") == 1, err
    assert not (tmp_path / "out.yaml").exists()


@needs_spec
def test_build_script_writes_the_catalogue(tmp_path, capsys):
    out = tmp_path / "catalog.yaml"
    assert build_catalog.main([str(SPEC), "-o", str(out)]) == 0
    assert "cs: 424 cases\ncsms: 250 cases\n" in capsys.readouterr().out
    assert out.read_text() == build_catalog.OUT.read_text()
