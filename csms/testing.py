"""Public test helpers for the CSMS: a scripted charge point on the real session core.

    async with await ScriptedChargePoint.connect(csms.url("CP1"), "CP1") as cp:
        assert (await cp.boot())["status"] == "Accepted"
        cp.replies["Reset"] = {"status": "Accepted"}
        ...
        action, payload = await cp.next_call()

It speaks OCPP-J over a real WebSocket (`chargebench.ocppj.connect` + `Session`), answers the
CSMS's CALLs from `replies` (a payload, or a callable taking the request payload) and records
them, so tests drive the CSMS exactly as a charger would, without patching anything.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from chargebench.clock import iso
from chargebench.ocppj import OcppSession, Role, Session, connect, version_for
from chargebench.ocppj.testing import RecordingHandlers, Reply, payloads
from chargebench.security import basic_auth_header

#: Default replies of a cooperative charger; everything else answers {"status": "Accepted"}.
DEFAULT_REPLIES: dict[str, dict] = {
    "UpdateFirmware": {},
    "GetDiagnostics": {},
    "GetConfiguration": {"configurationKey": []},
    "GetLocalListVersion": {"listVersion": 0},
    "UnlockConnector": {"status": "Unlocked"},
    "GetInstalledCertificateIds": {"status": "NotFound"},
}


class ScriptedChargePoint:
    """A charge point whose every move is written in the test."""

    def __init__(self, cp_id: str, ws: Any, *, replies: dict[str, Reply] | None = None) -> None:
        self.cp_id = cp_id
        self.ws = ws
        self.calls: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()
        version = version_for(getattr(ws, "subprotocol", None))
        self.core = OcppSession(Role.CHARGE_POINT, version=version, call_timeout=10)
        default = {"status": "Accepted"}
        base = {action: (lambda _p, a=action: DEFAULT_REPLIES.get(a, default))
                for action in version.cs_initiated}  # fmt: skip
        self.handlers = RecordingHandlers(
            base, replies, on_call=lambda action, payload: self.calls.put_nowait((action, payload))
        )
        #: per-action replies the test sets (a payload, or a callable taking the request)
        self.replies: dict[str, Reply] = self.handlers.replies
        self.session = Session(ws, self.core, self.handlers)
        self._reader = self.session.start()

    @classmethod
    async def connect(
        cls,
        url: str,
        cp_id: str,
        *,
        auth_key: str | bytes | None = None,
        replies: dict[str, Reply] | None = None,
        **options: Any,
    ) -> ScriptedChargePoint:
        """Open the connection; `auth_key` adds Basic authentication (profiles 1 and 2)."""
        if auth_key is not None:
            options["additional_headers"] = {"Authorization": basic_auth_header(cp_id, auth_key)}
        ws = await connect(url, **options)
        return cls(cp_id, ws, replies=replies)

    async def call(self, action: str, payload: dict | None = None, **kw: Any) -> dict:
        return await self.session.call(action, payload or {}, **kw)

    async def next_call(self, timeout: float = 5) -> tuple[str, dict]:
        """The next CALL the CSMS sent us, as (action, payload)."""
        async with asyncio.timeout(timeout):
            return await self.calls.get()

    async def boot(self, **fields: Any) -> dict:
        payload = payloads(self.core.version).boot_notification(
            chargePointModel="Scripted", **fields)
        return await self.call("BootNotification", payload)

    async def start_transaction(self, id_tag: str, *, connector_id: int = 1, meter_start: int = 0,
                                timestamp: str | None = None, **fields: Any) -> dict:  # fmt: skip
        payload = payloads(self.core.version).start_transaction(
            connector_id, id_tag, meter_start, timestamp or now_iso(), **fields)
        return await self.call("StartTransaction", payload)

    async def stop_transaction(self, transaction_id: int, meter_stop: int, *,
                               timestamp: str | None = None, **fields: Any) -> dict:  # fmt: skip
        payload = payloads(self.core.version).stop_transaction(
            transaction_id, meter_stop, timestamp or now_iso(), **fields)
        return await self.call("StopTransaction", payload)

    async def wait_closed(self, timeout: float = 5) -> None:
        async with asyncio.timeout(timeout):
            await self._reader

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)

    async def __aenter__(self) -> ScriptedChargePoint:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def now_iso() -> str:
    """The current UTC time as an OCPP dateTime."""
    return iso(datetime.now(UTC))
