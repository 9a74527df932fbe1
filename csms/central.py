"""`CentralSystem`: the composition root of the reference CSMS (CLI, tests, scenario runner).

    async with CentralSystem(CsmsConfig(port=0, db=tmp_path / "csms.db")) as csms:
        url = csms.url("CP001")                      # ws://127.0.0.1:<port>/ocpp/CP001
        conn = await csms.connections.wait_for("CP001", timeout=5)
        reply = await csms.execute("CP001", "Reset", {"type": "Soft"})
        csms.store.get_charger("CP001")

Starting opens the store (and applies the seed), marks every charger offline (flags left by a
killed process are stale), then starts the trace log, the OCPP server, the heartbeat monitor, the
WebSocket keepalive, the heap freezer (`chargebench.gcpolicy`) and, with `api_port`, the HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from chargebench.gcpolicy import HeapFreezer
from chargebench.security import server_ssl_context
from csms import commands
from csms.certificates import CertificateService
from csms.config import CsmsConfig
from csms.followups import FollowUps
from csms.groupcommit import GroupCommitter
from csms.outage import Refusals
from csms.registry import Registry
from csms.server import HeartbeatMonitor, KeepAlive, OcppServer
from csms.services.billing_service import BillingService
from csms.store.base import Store
from csms.tracelog import TraceLog

log = logging.getLogger(__name__)


class CentralSystem:
    """One running CSMS; see the module docstring. Not reusable after `close()`."""

    def __init__(self, config: CsmsConfig | None = None, *, store: Store | None = None,
                 **overrides: Any) -> None:  # fmt: skip
        """`overrides` replace fields of `config` (`CentralSystem(port=0, db=path)`); pass a
        `store` to share one the caller owns (it is not closed)."""
        config = config or CsmsConfig()
        self.config = replace(config, **overrides) if overrides else config
        self.clock = self.config.clock
        self._own_store = store is None
        self.store: Store = store if store is not None else _open_store(self.config)
        #: store calls of the OCPP path, group-committed (`csms.groupcommit`)
        self.db = GroupCommitter(self.store)
        self.connections = Registry()
        #: work refused while the store is unavailable, logged once (`csms.outage`)
        self.refusals = Refusals()
        self.trace = TraceLog(self.store, self.config.log_dir,
                              flush_interval=self.config.log_flush_interval,
                              live=self.connections.__contains__)  # fmt: skip
        self.billing = BillingService(self.store, self.clock)
        self.certificates = CertificateService(self)
        self.server = OcppServer(self)
        self.monitor = HeartbeatMonitor(self)
        self.keepalive = KeepAlive(self)
        self.heap: HeapFreezer | None = None
        if self.config.gc_freeze_interval is not None:
            self.heap = HeapFreezer(lambda: len(self.connections),
                                    interval=self.config.gc_freeze_interval)  # fmt: skip
        self.api: Any = None
        self._background: set[asyncio.Task] = set()
        #: charger id -> bookkeeping of answered commands still being written (commands.execute)
        self.recording: dict[str, set[asyncio.Future]] = {}
        #: charger id -> basic-auth passwords offered by a request not yet answered and
        #: recorded, admitted beside the stored one (commands.execute, csms.server)
        self.offered: dict[str, list[str]] = {}
        #: multi-message results commands wait for (2.0.1 NotifyReport...; csms.followups)
        self.followups = FollowUps()

    # Lifecycle ----------------------------------------------------------------------------------

    async def __aenter__(self) -> CentralSystem:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        config = self.config
        policy = config.unknown_chargers
        if policy.registration_status is not None:
            # one line, said at start: who may connect without any credentials (issue 15 0b)
            log.warning(
                "unknown charge points are admitted without credentials and registered %s "
                "(--unknown-chargers %s)", policy.registration_status, policy.value,
            )
        try:
            await asyncio.to_thread(self.store.mark_all_offline)
            self.trace.start()
            ssl_context = None
            if config.tls_cert is not None and config.tls_key is not None:  # together (config)
                ssl_context = server_ssl_context(config.tls_cert, config.tls_key, config.tls_ca)
            await self.server.start(ssl_context)
            self.monitor.start()
            self.keepalive.start()
            if self.heap is not None:
                self.heap.start()
            # bills what a crash left stopped but unbilled, then retries on schedule
            await self.billing.retry_due()
            self.billing.start()
            if config.api_port is not None:
                from csms.api.server import ApiServer  # starlette/uvicorn only when asked

                self.api = ApiServer(self)
                await self.api.start()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self.api is not None:
            await self.api.close()
            self.api = None
        await self.monitor.close()
        await self.keepalive.close()
        if self.heap is not None:
            await self.heap.close()
        await self.server.close()
        await self.billing.close()
        for task in list(self._background):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.trace.close()
        await self.db.close()
        if self._own_store:
            self.store.close()

    # Where we listen ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def api_port(self) -> int | None:
        return None if self.api is None else self.api.port

    def url(self, cp_id: str = "") -> str:
        """The OCPP endpoint URL for a charger (`ws[s]://host:port/ocpp/{id}`)."""
        scheme = "wss" if self.config.tls else "ws"
        return f"{scheme}://{self.config.host}:{self.port}/ocpp/{cp_id}"

    # Commands -----------------------------------------------------------------------------------

    async def send(self, cp_id: str, action: str, payload: dict, *,
                   timeout: float | None = None) -> dict:  # fmt: skip
        """A CALL to a connected charger without bookkeeping (see `csms.commands.send`)."""
        return await commands.send(self, cp_id, action, payload, timeout=timeout)

    async def execute(self, cp_id: str, action: str, payload: dict, *,
                      timeout: float | None = None) -> dict:  # fmt: skip
        """A CALL with its bookkeeping (see `csms.commands.execute`); returns the reply."""
        result = await commands.execute(self, cp_id, action, payload, timeout=timeout)
        return result.reply

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        """Run follow-up work (CertificateSigned after SignCertificate, closing a replaced
        connection) as a task the CSMS cancels on close."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())


def _open_store(config: CsmsConfig) -> Store:
    """The store at `config.db` (a path or URL), with the seed applied when one is configured."""
    from csms.store import open_store

    store = open_store(config.db, synchronous=config.db_synchronous, clock=config.clock.now)
    if config.seed is not None:
        try:
            from csms.seed import load_seed
        except ImportError as exc:  # pragma: no cover - the seed loader lands separately
            store.close()
            raise RuntimeError("csms.seed.load_seed is not available") from exc
        try:
            load_seed(store, config.seed)
        except BaseException:
            store.close()
            raise
    return store
