"""The one waiting helper's vocabulary: what a case expects, and the failure it reports.

Modelled on EVerest's `wait_for_and_validate`: frames that arrive and do not match stay in the
backlog (a later wait may want them) and are listed in the failure message, so a verdict always
names the expected frame and what was received instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.wire import Frame, matches

REPLY_TYPES = ("CALLRESULT", "CALLERROR")


class Mismatch(AssertionError):
    """A conformance verdict: the peer did not send what the spec requires."""


@dataclass(frozen=True, slots=True)
class Expect:
    """A frame the harness waits for.

    `what` is an action name (a CALL from the peer) or "CALLRESULT" / "CALLERROR" (a reply);
    `subset` must be contained in the payload (for a CALLERROR: errorCode, errorDescription,
    errorDetails). With `message_id`, a reply of the other kind to that id fails at once.
    """

    what: str
    subset: Mapping[str, Any] | None = None
    message_id: str | None = None

    @property
    def kind(self) -> str:
        return self.what if self.what in REPLY_TYPES else "CALL"

    def matches(self, frame: Frame) -> bool:
        if frame.type != self.kind:
            return False
        if self.kind == "CALL" and frame.action != self.what:
            return False
        if self.message_id is not None and frame.id != self.message_id:
            return False
        return self.subset is None or matches(dict(self.subset), frame.payload)

    def contradicts(self, frame: Frame) -> bool:
        """A reply to our id that is not the one expected: no point in waiting longer."""
        return (
            self.message_id is not None
            and self.kind in REPLY_TYPES
            and frame.id == self.message_id
            and frame.type in REPLY_TYPES
            and not self.matches(frame)
        )

    def describe(self) -> str:
        text = self.what if self.kind == "CALL" else self.kind
        if self.message_id is not None:
            text += f" id={self.message_id}"
        if self.subset is not None:
            text += f" containing {dict(self.subset)!r}"
        return text


def failure(
    expected: Expect | str, received: Iterable[Frame], timeout: float | None, note: str = ""
) -> Mismatch:
    """The verdict message: what was expected, within how long, and every frame seen instead."""
    what = expected.describe() if isinstance(expected, Expect) else expected
    within = f" within {timeout:g} s" if timeout is not None else ""
    lines = [f"expected {what}{within}{': ' + note if note else ''}"]
    frames = list(received)
    if frames:
        lines.append("received instead:")
        lines.extend(f"  {frame.describe()}" for frame in frames)
    else:
        lines.append("received instead: nothing")
    return Mismatch("\n".join(lines))
