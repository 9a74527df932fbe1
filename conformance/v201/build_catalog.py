"""Build `conformance/v201/catalog.yaml` from the OCPP 2.0.1 Edition 3 specification, once.

    python -m conformance.v201.build_catalog /work/shared/ocpp-spec/2.0.1 [-o FILE]

Reads part 6 (test cases: one table per case, "Table N. Test Case Id: ..." above it) and part 5
(certification profiles: §4.2-§4.9, one table per profile whose rows name an OCTT id without its
role suffix and mark it M(andatory) or C(onditional) per role), and writes short facts only:
ids, titles, roles, functional blocks, profiles, requirement ids. The spec text stays in
../shared; tests/conformance/v201 read it from there and check the catalogue against it.

The Markdown is a conversion of the PDFs and misprints a few ids; each fix below is checked
against the titles, so a new edition that corrects them fails here instead of going wrong:
- the block letter O printed as the digit 0 (TC_0_02_CS) and I as 1 (TC_1_01_CSMS): the
  functional block of a case is the chapter it stands in (part 6 §2.2-§2.17, §3.2-§3.17);
- a table heading and its "Test case Id" row that disagree (heading TC_C_58_CS over a row
  TC_C_28_CS, heading TC_L_01_CSMS in chapter I): the id in the case's chapter wins, the
  heading when both are (the row then repeats an earlier case's id);
- part 5 lists the cost cases of the Advanced User Interface profile as TC_L_01/02/07 (L is
  Firmware Management); their titles are those of part 6's TC_I_01/02/07.
"""

from __future__ import annotations

import argparse
import difflib
import html
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

PART5 = "OCPP-2.0.1_edition3_part5_certification_profiles.md"
PART6 = "OCPP-2.0.1_edition3_part6-testcases.md"
OUT = Path(__file__).with_name("catalog.yaml")

#: part 5 §4.x heading -> catalogue key (conformance.v201.catalog.PROFILES holds the names)
PROFILE_KEYS = {
    "Core": "core",
    "Advanced Security": "advanced_security",
    "Local Authorization List Management": "local_auth_list",
    "Smart Charging": "smart_charging",
    "Advanced Device Management": "advanced_device_management",
    "Reservation": "reservation",
    "Advanced User Interface": "advanced_user_interface",
    "ISO 15118 Support": "iso15118",
}
#: part 5 rows whose id names another functional block than the case meant (module docstring)
PART5_MISPRINTS = {
    ("advanced_user_interface", f"TC_L_{n}"): f"TC_I_{n}" for n in ("01", "02", "07")
}
#: part 6 chapter number -> role under test; the case's suffix says the same
CHAPTERS = {"2": "cs", "3": "csms"}
SUFFIX = {"cs": "CS", "csms": "CSMS"}

_ID = re.compile(r"TC_([A-Z0-9])_(\d+)_(CS|CSMS)")
#: "# 2.3. B Provisioning"; also the chapters that are no block ("# 2.18. Reusable states")
_CHAPTER = re.compile(r"^#\s*(2|3)\.(\d+)\.\s+(?:([A-P])\s)?", re.M)
_HEADING = re.compile(r"Test Case Id:\s*(\S+)")
_REQUIREMENT = re.compile(r"\b([A-P0-9])(\d{2,3})[._]FR[._](\d+)")


@dataclass
class Case:
    id: str
    role: str
    block: str
    title: str
    use_cases: list[str]
    requirements: list[str]
    profiles: dict[str, str] = field(default_factory=dict)  # profile key -> "M" | "C"
    conditions: dict[str, str] = field(default_factory=dict)  # profile key -> feature ids


def _cell(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def _row(body: str, name: str) -> str | None:
    found = re.search(rf"<td>{re.escape(name)}</td><td[^>]*>(.*?)</td>", body, re.S)
    return _cell(found.group(1)) if found else None


def _letter(char: str) -> str:
    """A block letter the conversion printed as a digit: 0 is O, 1 is I."""
    return {"0": "O", "1": "I"}.get(char, char)


def _normalise(raw: str | None) -> tuple[str, str, str] | None:
    found = _ID.fullmatch(raw.strip()) if raw else None
    if not found:
        return None
    return _letter(found[1]), found[2], found[3]


def requirement_ids(cell: str) -> list[str]:
    """"B01.FR.01, C09_FR_02, 001_FR_01" -> ["B01.FR.01", "C09.FR.02", "O01.FR.01"]: the FR ids,
    normalised to the dotted form of part 2, in order, once each."""
    seen: dict[str, None] = {}
    for letter, number, fr in _REQUIREMENT.findall(cell):
        seen[f"{_letter(letter)}{number}.FR.{fr}"] = None
    return list(seen)


def parse_part6(text: str) -> list[Case]:
    """Every case table of part 6, in document order."""
    chapters = [(m.start(), CHAPTERS[m[1]], m[3]) for m in _CHAPTER.finditer(text)]  # block: None
    if not chapters:
        raise ValueError(f"{PART6}: no functional block chapters (2.x.A ...) found")
    cases: list[Case] = []
    for table in re.finditer(r"<table>(.*?)</table>", text, re.S):
        body = table.group(1)
        row_id = _row(body, "Test case Id")
        if row_id is None:
            continue
        before = [c for c in chapters if c[0] < table.start()]
        if not before:
            raise ValueError(f"{PART6}: case table {row_id} before the first chapter")
        _, role, block = before[-1]
        if block is None:
            raise ValueError(f"{PART6}: case table {row_id} outside a functional block chapter")
        headings = _HEADING.findall(text[max(0, table.start() - 300):table.start()])
        candidates = [_normalise(headings[-1] if headings else None), _normalise(row_id)]
        fitting = [c for c in candidates if c and c[0] == block and c[2] == SUFFIX[role]]
        if not fitting:
            raise ValueError(f"{PART6}: case table {row_id} (heading {headings[-1:]}) does not "
                             f"fit chapter {block} of the {role} tests")
        letter, number, suffix = fitting[0]
        title = _row(body, "Test case name") or ""
        tested = (_row(body, "System under test") or "").lower()
        if ("csms" in tested) != (role == "csms"):
            raise ValueError(f"{PART6}: {row_id}: system under test {tested!r} in {role} tests")
        cases.append(Case(
            id=f"TC_{letter}_{number}_{suffix}", role=role, block=block, title=title,
            use_cases=re.findall(r"\b[A-P]\d{2}\b", _row(body, "Use case Id(s)") or ""),
            requirements=requirement_ids(_row(body, "Requirement(s)") or ""),
        ))
    return cases


@dataclass(frozen=True)
class ProfileRow:
    """One case row of a part 5 profile table."""

    profile: str
    id: str  # without role suffix, block letter normalised: TC_B_02
    scenario: str  # the group heading above it, " - ", the row's own scenario text
    levels: dict[str, str]  # role -> "M" | "C" (roles with an empty cell are absent)
    condition: str  # the "Feature no." column, or the cell that stands for C


def parse_part5(text: str) -> list[ProfileRow]:
    """The case rows of part 5 §4.2-§4.9 (the tables before §5)."""
    end = re.search(r"^#\s*5\.\s", text, re.M)
    headings = [m for m in re.finditer(r"^#?\s*4\.[2-9]\.\s+Test Cases\s+(.+?)\.?\s*$", text, re.M)
                if not re.search(r"\s\d+$", m.group(1))]  # the table of contents has pages
    rows: list[ProfileRow] = []
    for index, heading in enumerate(headings):
        name = heading.group(1).strip()
        if name not in PROFILE_KEYS:
            raise ValueError(f"{PART5}: unknown certification profile {name!r}")
        profile = PROFILE_KEYS[name]
        stop = headings[index + 1].start() if index + 1 < len(headings) else (
            end.start() if end else len(text))
        group = ""
        for row in re.findall(r"<tr>(.*?)</tr>", text[heading.end():stop], re.S):
            cells = [_cell(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            if len(cells) == 7 and not cells[0] and cells[1]:
                group = cells[1]
                continue
            if not cells or not cells[0].startswith("TC_"):
                continue
            found = re.fullmatch(r"TC_([A-Z0-9])_(\d+)", cells[0])
            if not found or len(cells) != 7:
                raise ValueError(f"{PART5}: {name}: row {cells[:2]} is not a case row")
            case_id = f"TC_{_letter(found[1])}_{found[2]}"
            case_id = PART5_MISPRINTS.get((profile, case_id), case_id)
            levels, condition = {}, cells[5]
            for role, cell in (("cs", cells[2]), ("csms", cells[3])):
                if cell in ("M", "C"):
                    levels[role] = cell
                elif cell:  # a feature expression standing in the column: conditional
                    levels[role] = "C"
                    condition = cell if role == "cs" else f"{condition}; CSMS: {cell}"
            rows.append(ProfileRow(profile, case_id, f"{group} - {cells[1]}", levels, condition))
    if len({row.profile for row in rows}) != len(PROFILE_KEYS):
        raise ValueError(f"{PART5}: found profiles {sorted({r.profile for r in rows})}")
    return rows


def _same_case(scenario: str, title: str) -> bool:
    """Does a part 5 row (group - scenario) name the part 6 case titled `title`?"""
    a, b = scenario.lower(), title.lower()
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.5 or a.split(" - ")[-1] in b


def build(spec: Path) -> tuple[list[Case], list[str]]:
    """The catalogue's cases, and the notes: what part 5 lists that part 6 lacks."""
    cases = parse_part6((spec / PART6).read_text(encoding="utf-8"))
    by_id: dict[str, Case] = {}
    for case in cases:
        if case.id in by_id:
            raise ValueError(f"{PART6}: {case.id} defined twice")
        by_id[case.id] = case
    notes: list[str] = []
    for row in parse_part5((spec / PART5).read_text(encoding="utf-8")):
        for role, level in row.levels.items():
            full = f"{row.id}_{SUFFIX[role]}"
            entry = by_id.get(full)
            if entry is None:
                notes.append(f"part 5 {row.profile} lists {full} ({level}); "
                             "part 6 has no such case")
                continue
            fix = next((k for k, v in PART5_MISPRINTS.items() if v == row.id
                        and k[0] == row.profile), None)
            if fix and not _same_case(row.scenario, entry.title):
                raise ValueError(f"{PART5}: {fix[1]} -> {row.id}: {entry.title!r} is not "
                                 f"{row.scenario!r}; the misprint table is out of date")
            if row.profile in entry.profiles:
                raise ValueError(f"{PART5}: {full} listed twice in {row.profile}")
            entry.profiles[row.profile] = level
            if level == "C" and row.condition:
                entry.conditions[row.profile] = row.condition
    return cases, notes


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _flow(values: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {_quote(v)}" for k, v in values.items()) + "}"


def render(cases: list[Case], notes: list[str]) -> str:
    """The YAML text: one flow mapping per case, in part 6 order."""
    counts = {role: sum(case.role == role for case in cases) for role in SUFFIX}
    lines = [
        "# GENERATED by `python -m conformance.v201.build_catalog SPEC_DIR` from OCPP 2.0.1",
        "# Edition 3 part 6 (test cases) and part 5 (certification profiles); do not edit.",
        "# Every part 6 case once: id, role under test (cs: Charging Station, csms: CSMS),",
        "# functional block, title, use cases, requirement ids, and per certification profile",
        "# of part 5 whether the case is M(andatory) or C(onditional) there, with the condition's",
        "# feature ids. A case in no profile is not part of certification.",
        f"# cases: {counts['cs']} cs, {counts['csms']} csms",
        "part5_without_part6:",
        *(f"  - {_quote(note)}" for note in notes),
        "cases:",
    ]
    for case in cases:
        entry = (f"  - {{id: {case.id}, role: {case.role}, block: {case.block}, "
                 f"title: {_quote(case.title)}, use_cases: [{', '.join(case.use_cases)}], "
                 f"requirements: [{', '.join(case.requirements)}], "
                 f"profiles: {_flow(case.profiles)}")
        if case.conditions:
            entry += f", conditions: {_flow(case.conditions)}"
        lines.append(entry + "}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.v201.build_catalog",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", type=Path, help="folder of the OCPP 2.0.1 Edition 3 Markdown")
    parser.add_argument("-o", "--output", type=Path, default=OUT, help="default %(default)s")
    args = parser.parse_args(argv)
    try:
        cases, notes = build(args.spec)
    except (OSError, ValueError) as error:
        print(f"build_catalog: {error}", file=sys.stderr)
        return 2
    args.output.write_text(render(cases, notes), encoding="utf-8")
    for role in SUFFIX:
        print(f"{role}: {sum(case.role == role for case in cases)} cases")
    for note in notes:
        print(f"note: {note}")
    print(f"written {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
