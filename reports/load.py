"""Read trace files for a report, tolerating damage: a bad line is a problem to show, not a crash.

`chargebench.trace.read_trace` is strict (a harness reading its own trace wants the exception);
a report is often run on traces cut short by a killed process or edited by hand, so here every
unreadable line becomes a `Problem` naming file and line, and the rest is still reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from chargebench.trace import TraceRecord

__all__ = ["Loaded", "Problem", "expand", "load_traces", "parse_line"]


@dataclass(slots=True, frozen=True)
class Problem:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(slots=True)
class Loaded:
    files: list[Path] = field(default_factory=list)
    records: list[TraceRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: readable records per file: a file with none and some problems is not a trace at all
    counts: dict[Path, int] = field(default_factory=dict)

    def starts(self) -> list[int]:
        """Where each file's records begin in `records`: each file is a trace of its own."""
        positions, total = [], 0
        for path in self.files:
            positions.append(total)
            total += self.counts.get(path, 0)
        return positions

    def not_traces(self) -> list[Problem]:
        """The first problem of each file none of whose lines was a trace record."""
        firsts: dict[Path, Problem] = {}
        for problem in self.problems:
            if not self.counts.get(problem.path):
                firsts.setdefault(problem.path, problem)
        return list(firsts.values())


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files to read: each file as given, each directory's `*.jsonl` (recursively, sorted).

    Raises FileNotFoundError naming the first path that does not exist, so the caller can
    refuse the whole command before reading anything.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*.jsonl")))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(path)
    return files


def parse_line(line: str) -> TraceRecord:
    """One trace line as a record; ValueError saying what is wrong with it otherwise."""
    try:
        data = json.loads(line)
    except ValueError as error:
        raise ValueError(f"not JSON ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object but {type(data).__name__}")
    try:
        record = TraceRecord(**data)  # ValueError naming the field: dir or type unknown
    except TypeError as error:
        raise ValueError(f"not a trace record ({error})") from None
    if not isinstance(record.ts, str) or not isinstance(record.cp_id, str):
        raise ValueError("ts and cp_id must be strings")
    if not all(isinstance(v, str | None) for v in (record.id, record.action)):
        raise ValueError("id and action must be strings or null")
    if record.latency_ms is not None and (
            isinstance(record.latency_ms, bool) or not isinstance(record.latency_ms, int | float)):
        raise ValueError(f"latency_ms {record.latency_ms!r} is not a number")
    record.session = str(record.session)
    return record


def load_traces(files: Iterable[Path]) -> Loaded:
    """All readable records of `files`, in file order; unreadable lines go to `problems`."""
    loaded = Loaded()
    for path in files:
        loaded.files.append(path)
        before = len(loaded.records)
        try:
            with path.open(encoding="utf-8", errors="replace") as lines:
                for number, line in enumerate(lines, start=1):
                    if not line.strip():
                        continue
                    try:
                        loaded.records.append(parse_line(line))
                    except ValueError as error:
                        loaded.problems.append(Problem(path, number, str(error)))
        except OSError as error:
            loaded.problems.append(Problem(path, 0, f"cannot read: {error.strerror or error}"))
        loaded.counts[path] = len(loaded.records) - before
    return loaded
