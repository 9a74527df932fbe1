"""Trace records: every frame any part sends or receives, one JSON object per line.

Fields (DESIGN.md): `ts` (ISO-8601, µs), `cp_id`, `dir` ("cp->cs"/"cs->cp"), `type`
(CALL/CALLRESULT/CALLERROR, or RAW for a frame that could not be parsed or was sent broken on
purpose), `id`, `action`, `payload`, `latency_ms` (on replies), `session` (connection id),
and `seq`, the record's place in the log that holds it (the CSMS message log's row number,
the conformance harness's arrival order; written only when set).
The CSMS stores them in its message log, the simulator and harness write them per run, and the
reports read them back with `read_trace()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from chargebench.ocppj.core import Tracer
from chargebench.ocppj.frames import Direction, MessageType
from chargebench.redaction import redact, redact_text

__all__ = ["Direction", "MessageType", "TraceRecord", "TraceWriter", "make_tracer", "read_trace"]


@dataclass(slots=True)
class TraceRecord:
    """One frame, the one record of it every part shares: the core's tracer makes it, the
    harness makes it from what it saw on the wire (`conformance.wire.parse`), the CSMS stores
    it as its message log and reads it back (`query_log`), the reports, scenarios and verdicts
    read it. `dir` and `type` are StrEnums, so the JSON line keeps their plain values
    ("cp->cs", "CALL"). A CALLERROR's payload is [code, description, details] as on the wire
    (`error` names them); a RAW frame's payload is its text; a reply's `action` is the action
    of the CALL it answers, when known."""

    ts: str
    cp_id: str
    dir: Direction
    type: MessageType
    id: str | None
    action: str | None
    payload: Any
    latency_ms: float | None
    session: str
    #: the record's place in the log that holds it (message-log row, harness arrival order)
    seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The record as plain JSON data (the HTTP API's message-log rows); `seq` only when set."""
        data = asdict(self)
        if self.seq is None:
            del data["seq"]
        return data

    @property
    def error(self) -> dict[str, Any] | None:
        """A CALLERROR's fields by their OCPP-J names (OCPP-J 1.6 §4.2.3), else None."""
        if self.type is not MessageType.CALLERROR or not isinstance(self.payload, list | tuple):
            return None
        code, description, details = (*self.payload, None, None, None)[:3]
        return {"errorCode": code, "errorDescription": description, "errorDetails": details}

    def to_json(self) -> str:
        """One line of UTF-8 JSON, always: a lone surrogate that reached a record (the session
        core refuses such frames; this is the last guard for every file sink) is written as its
        JSON escape instead of making the write raise."""
        text = json.dumps(self.as_dict(), ensure_ascii=False, separators=(",", ":"), default=str)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        return text

    def __post_init__(self) -> None:
        # a record built from stored or parsed text gets its enums here (ValueError if unknown)
        if type(self.dir) is not Direction:
            self.dir = _member(Direction, "dir", self.dir)
        if type(self.type) is not MessageType:
            self.type = _member(MessageType, "type", self.type)

    @classmethod
    def from_json(cls, line: str) -> TraceRecord:
        return cls(**json.loads(line))

    def describe(self) -> str:
        """One line for failure messages: time, direction, type, id, action, body."""
        body = self.payload if isinstance(self.payload, str) else json.dumps(
            self.payload, ensure_ascii=False, separators=(",", ":"), default=str)
        body = body if len(body) <= 300 else body[:297] + "..."
        return f"{self.ts} {self.dir} {self.type} {self.id or '-'} {self.action or ''} {body}"


_E = TypeVar("_E", Direction, MessageType)


def _member(kind: type[_E], field: str, value: Any) -> _E:
    try:
        return kind(value)
    except (ValueError, TypeError):  # TypeError: an unhashable value (a list)
        choices = ", ".join(kind)
        raise ValueError(f"{field} {value!r} is not one of {choices}") from None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def make_tracer(
    sink: Callable[[TraceRecord], None],
    cp_id: str,
    session: str,
    now: Callable[[], datetime] = _utc_now,
) -> Tracer:
    """A session-core tracer that turns each frame into a `TraceRecord` for `sink`.

    The one place frames become records: secrets are redacted here (`chargebench.redaction`),
    so no consumer of records (message log, per-charger files, trace files) ever sees one.
    """

    def trace(direction, kind, message_id, action, payload, latency) -> None:
        if kind == "RAW":
            payload = redact_text(payload)
        elif kind != "CALLERROR":
            payload = redact(action, payload, response=kind == "CALLRESULT")
        sink(
            TraceRecord(
                ts=now().isoformat(timespec="microseconds"),
                cp_id=cp_id,
                dir=direction,
                type=kind,
                id=message_id,
                action=action,
                payload=payload,
                latency_ms=None if latency is None else round(latency * 1000, 3),
                session=session,
            )
        )

    return trace


class TraceWriter:
    """Appends records to a JSON Lines file; cheap enough to call for every frame."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # backslashreplace: a lone surrogate that slipped into a record becomes its JSON escape
        # (\\ud800), so the line stays valid UTF-8 and valid JSON instead of raising
        self._file: IO[str] = self.path.open("a", encoding="utf-8", errors="backslashreplace")

    def __call__(self, record: TraceRecord) -> None:
        self._file.write(record.to_json() + "\n")

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_trace(source: str | Path | Iterable[str]) -> Iterator[TraceRecord]:
    """Records of a trace file (or of an iterable of lines), in file order."""
    if isinstance(source, str | Path):
        with Path(source).open(encoding="utf-8") as lines:
            yield from (TraceRecord.from_json(line) for line in lines if line.strip())
    else:
        yield from (TraceRecord.from_json(line) for line in source if line.strip())
