"""What each charge point said and heard, and the rule for which messages an `expect:` may see.

Every trace record of a charge point lands in its `Inbox` (`chargebench.inbox`, shared with the
conformance harness). An expectation looks at the *window*: the records since the first action
step after the previous check (so `plug_in`, `present_id_tag`, then three `expect:` steps all see
what both actions caused), skipping records an earlier expectation already matched (so two
`expect: StatusNotification` steps need two messages). This module adds that window rule and the
wait for `count` matches on top of the shared inbox.
"""

from __future__ import annotations

from chargebench import inbox
from chargebench.inbox import Found
from chargebench.matching import MessagePattern
from chargebench.trace import TraceRecord

__all__ = ["Found", "Inbox"]


class Inbox(inbox.Inbox):
    """The trace records of one charge point, fed by its trace sink."""

    def __init__(self) -> None:
        super().__init__()
        self._reopen = False

    # The window

    def action_started(self) -> None:
        """An action step begins: after a check, the window moves up to now."""
        if self._reopen:
            self.forget()
            self._reopen = False

    def checked(self) -> None:
        """A check step ended: the next action opens a new window."""
        self._reopen = True

    # Looking

    async def wait(self, pattern: MessagePattern, count: int, timeout: float, *,
                   since_start: bool = False) -> list[Found]:
        """The first `count` matches in the window (or since the start), waiting up to
        `timeout` wall seconds for them; fewer than `count` means the expectation failed."""

        def enough() -> list[Found] | None:
            found = self.find(pattern, since_start=since_start)
            return found[:count] if len(found) >= count else None

        found = await inbox.wait_until(self, enough, timeout)
        return found if found is not None else self.find(pattern, since_start=since_start)[:count]

    def near_misses(self, pattern: MessagePattern, limit: int = 3) -> list[TraceRecord]:
        """What came instead: window records of the same action (else the latest records)."""
        window = self.records[self.window_start:]
        same = [r for r in window if r.action == pattern.action]
        return (same or window)[-limit:]
