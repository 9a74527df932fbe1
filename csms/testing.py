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
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chargebench.clock import iso
from chargebench.ocppj import OcppSession, Role, Session, connect
from chargebench.security import basic_auth_header

Reply = dict | Callable[[dict], Any]

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
        self.replies: dict[str, Reply] = dict(replies or {})
        self.calls: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()
        self.core = OcppSession(Role.CHARGE_POINT, call_timeout=10)
        handlers = {action: self._answerer(action) for action in self.core.version.cs_initiated}
        self.session = Session(ws, self.core, handlers)
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

    def _answerer(self, action: str) -> Callable[[dict], Any]:
        def answer(payload: dict) -> Any:
            self.calls.put_nowait((action, payload))
            default = DEFAULT_REPLIES.get(action, {"status": "Accepted"})
            reply = self.replies.get(action, default)
            return reply(payload) if callable(reply) else reply

        return answer

    async def call(self, action: str, payload: dict | None = None, **kw: Any) -> dict:
        return await self.session.call(action, payload or {}, **kw)

    async def next_call(self, timeout: float = 5) -> tuple[str, dict]:
        """The next CALL the CSMS sent us, as (action, payload)."""
        async with asyncio.timeout(timeout):
            return await self.calls.get()

    async def boot(self, **fields: Any) -> dict:
        payload = {"chargePointVendor": "ChargeBench", "chargePointModel": "Scripted", **fields}
        return await self.call("BootNotification", payload)

    async def start_transaction(self, id_tag: str, *, connector_id: int = 1, meter_start: int = 0,
                                timestamp: str | None = None, **fields: Any) -> dict:  # fmt: skip
        payload = {"connectorId": connector_id, "idTag": id_tag, "meterStart": meter_start,
                   "timestamp": timestamp or now_iso(), **fields}  # fmt: skip
        return await self.call("StartTransaction", payload)

    async def stop_transaction(self, transaction_id: int, meter_stop: int, *,
                               timestamp: str | None = None, **fields: Any) -> dict:  # fmt: skip
        payload = {"transactionId": transaction_id, "meterStop": meter_stop,
                   "timestamp": timestamp or now_iso(), **fields}  # fmt: skip
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
