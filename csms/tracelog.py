"""Where the CSMS's trace records go: the store's message log (batched) and per-charger files.

Each frame is one `TraceRecord` (chargebench.trace). Writing every record to SQLite on its own
would cost one fsync per frame, so records are buffered and appended in one transaction every
`flush_interval` seconds (and when `close()`d). The message log is an audit trail, not
acknowledged data: a SIGKILL may lose the last interval of it, never a transaction.
The per-charger JSON Lines files are the `logs/charger.<ID>.log` of seeds/000 §5.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from chargebench.aiotasks import cancel_and_wait
from chargebench.trace import TraceRecord, TraceWriter
from csms.store.base import Store
from csms.store.errors import StoreUnavailable

log = logging.getLogger(__name__)

#: A batch bigger than this is flushed without waiting for the timer.
_BATCH = 2000
#: Records kept for the message log while the store is unavailable (the newest; the per-charger
#: files have them all)
_KEEP = 100_000


_FIELDS = tuple(f.name for f in fields(TraceRecord))


def _row(record: TraceRecord) -> dict:
    """What `Store.append_log` reads. Not `dataclasses.asdict`: that deep-copies every payload,
    which the boot storm of 10 000 chargers pays for with ~60 000 records."""
    return {name: getattr(record, name) for name in _FIELDS}


def _log_file(log_dir: Path, cp_id: str) -> Path:
    return log_dir / f"charger.{cp_id}.log"


class TraceLog:
    """Collects trace records of every connection; call `start()` and `close()` from asyncio."""

    def __init__(
        self, store: Store, log_dir: str | Path | None, *, flush_interval: float = 0.25,
        live: Callable[[str], bool] | None = None, sweep_interval: float = 1.0,
    ) -> None:
        """`live(cp_id)`: is the charger connected? Files of chargers that are not are closed
        every `sweep_interval` seconds (see `sweep`)."""
        self.store = store
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.flush_interval = flush_interval
        self.live = live
        self.sweep_interval = sweep_interval
        self._last_sweep = time.monotonic()
        self._pending: list[TraceRecord] = []
        self._files: dict[str, TraceWriter] = {}
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        #: the store was unavailable at the last flush (said once, not at every flush)
        self._failing = False

    def file_for(self, cp_id: str) -> Path | None:
        """The charger's JSON Lines log (`logs/charger.<ID>.log`), if files are kept."""
        return None if self.log_dir is None else _log_file(self.log_dir, cp_id)

    def __call__(self, record: TraceRecord) -> None:
        """The sink given to `chargebench.trace.make_tracer`: cheap, never blocks."""
        self._pending.append(record)
        if self.log_dir is not None:
            writer = self._files.get(record.cp_id)
            if writer is None:
                path = _log_file(self.log_dir, record.cp_id)
                writer = self._files[record.cp_id] = TraceWriter(path)
            writer(record)
        if len(self._pending) >= _BATCH:
            self._wake.set()

    def release(self, cp_id: str) -> None:
        """The charger disconnected: close its file (reopened in append mode if it returns)."""
        writer = self._files.pop(cp_id, None)
        if writer is not None:
            writer.close()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.flush_interval):
                    await self._wake.wait()
            self._wake.clear()
            await self.flush()

    def sweep(self) -> int:
        """Close the files of chargers that are not connected; return how many.

        `release()` at disconnect is not the last word: a handler still running when the
        connection closed answers afterwards, its record reopens the file, and nothing would
        close it again: one open file (and its buffers) per closed connection (issue 15 point
        3: 2,000 connections, 2,000 file descriptors)."""
        if self.live is None:
            return 0
        idle = [cp_id for cp_id in self._files if not self.live(cp_id)]
        for cp_id in idle:
            self.release(cp_id)
        return len(idle)

    async def flush(self) -> None:
        """Write what is buffered: one store transaction, then flush the files."""
        batch, self._pending = self._pending, []
        for writer in self._files.values():
            writer.flush()
        now = time.monotonic()
        if now - self._last_sweep >= self.sweep_interval:
            self._last_sweep = now
            self.sweep()
        if batch:
            try:
                await asyncio.to_thread(self.store.append_log, [_row(r) for r in batch])
            except StoreUnavailable as error:  # kept for the next flush (csms.outage)
                self._pending[:0] = batch
                del self._pending[:-_KEEP]
                if not self._failing:
                    log.warning("message log waits for the store (%s); keeping up to %d "
                                "records", error, _KEEP)  # fmt: skip
                self._failing = True
                return
            except Exception:  # the audit log must never take the CSMS down
                log.exception("could not write %d trace records to the message log", len(batch))
            else:
                if self._failing:
                    log.info("message log written again (%d records)", len(batch))
                self._failing = False

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        await self.flush()
        if self._pending:  # the store is still unavailable: say what its log lacks
            where = "the charger log files have them" if self.log_dir else "no log files kept"
            log.warning("%d trace records not written to the message log (store unavailable); "
                        "%s", len(self._pending), where)  # fmt: skip
            self._pending = []
        for cp_id in list(self._files):
            self.release(cp_id)
