"""What the CSMS does while its store is unavailable (issue 17 point 6): it refuses new work
and says so once, rather than crashing or writing a traceback per charger.

While the store raises `StoreUnavailable` (PostgreSQL stopped or unreachable, SQLite's disk
full), every piece of work that needs it is refused, and nothing half-done is acknowledged:

- a charger's CALL gets the CALLERROR InternalError (OCPP-J 1.6 §4.2.3: "the receiver was not
  able to process the requested Action successfully"); the charger retries it later, as it
  does any unanswered transaction message (1.6 §4.10 TransactionMessageAttempts);
- a new OCPP connection gets HTTP 503 with Retry-After in its upgrade (RFC 9110 §15.6.4);
- the HTTP API answers 503 `{"error": ...}` with Retry-After.

Each refusal is logged; the first one of an outage (and then at most one a minute) at WARNING,
the others at INFO, so an outage with 10 000 chargers is a few lines, not 10 000 tracebacks. The
backend says when the server went away and when it is back (`csms.store.postgres`); recovery
needs nothing from here: the next call that reaches a working store succeeds.
"""

from __future__ import annotations

import logging
import threading
import time

from csms.store.errors import StoreUnavailable

log = logging.getLogger(__name__)

#: seconds a client is asked to wait before retrying (Retry-After of the 503 answers)
RETRY_AFTER = 5
#: the CALLERROR description: what failed, never our internals (the log has those)
CALL_DESCRIPTION = "temporarily unable to process this; retry later"
#: at most one WARNING line per this many seconds; the other refusals are INFO
WARN_EVERY = 60.0



class Refusals:
    """One CSMS's log of refused work (`csms.refusals`); thread-safe."""

    def __init__(self, *, warn_every: float = WARN_EVERY) -> None:
        self.warn_every = warn_every
        self._lock = threading.Lock()
        self._last_warning: float | None = None
        #: refusals so far, for tests and benchmarks
        self.count = 0

    def refused(self, what: str, error: StoreUnavailable) -> None:
        """Log that `what` ("CP1: StartTransaction", "GET /api/chargers") was refused."""
        now = time.monotonic()
        with self._lock:
            self.count += 1
            loud = self._last_warning is None or now - self._last_warning >= self.warn_every
            if loud:
                self._last_warning = now
        if loud:
            log.warning("store unavailable (%s): refusing new work until it is back (charger "
                        "CALLs: InternalError; new connections and API requests: HTTP 503); "
                        "first refused: %s", error, what)  # fmt: skip
        else:
            log.info("%s refused: store unavailable (%s)", what, error)


__all__ = ["CALL_DESCRIPTION", "RETRY_AFTER", "Refusals"]
