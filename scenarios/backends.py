"""The CSMS a scenario runs against: the built-in one in this process, or an external one by URL.

Both answer the same four questions the runner asks: where do charge points connect, run a
CSMS-initiated action, do an operator's action, and read state for `assert:`. The external
backend runs actions over the CSMS's HTTP API when the scenario names one, and says why it skips
what it cannot do (`Skip`), so a scenario written for the built-in CSMS still runs elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from chargebench.clock import Clock
from scenarios.model import CsmsSpec

__all__ = ["Backend", "BuiltinBackend", "ExternalBackend", "Skip", "make_backend"]


class Skip(Exception):
    """This step cannot run against this CSMS; the message says why. Not a failure."""


class Backend:
    """Interface; see the module docstring."""

    name = "csms"

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def url(self) -> str:
        """Base OCPP URL; the charge point appends its id."""
        raise NotImplementedError

    async def command(self, cp_id: str, action: str, payload: dict, timeout: float) -> dict:
        raise Skip("this CSMS cannot be driven from the scenario")

    async def operate(self, cp_id: str, args: dict[str, Any]) -> None:
        raise Skip("operator actions need the built-in CSMS")

    async def state(self, kind: str, cp_id: str, spec: dict[str, Any]) -> Any:
        raise Skip("assert: reads the built-in CSMS's store")

    def summary(self) -> dict[str, Any]:
        """Energy delivered and billed, for the run summary (empty when unknown)."""
        return {}


class BuiltinBackend(Backend):
    """`csms.CentralSystem` on 127.0.0.1, a random port and an SQLite file in `workdir`."""

    name = "built-in"

    def __init__(self, spec: CsmsSpec, clock: Clock, workdir: Path) -> None:
        self.spec = spec
        self.clock = clock
        self.workdir = workdir
        self.csms: Any = None

    async def start(self) -> None:
        from csms.central import CentralSystem
        from csms.config import CsmsConfig

        seed = self.spec.seed
        if isinstance(seed, dict):  # inline seed: the CSMS loads seeds from files
            path = self.workdir / "seed.yaml"
            path.write_text(yaml.safe_dump(seed), encoding="utf-8")
            seed = path
        options: dict[str, Any] = {}
        if self.spec.heartbeat_interval is not None:
            options["heartbeat_interval"] = int(self.spec.heartbeat_interval)
        config = CsmsConfig(
            port=0, db=self.workdir / "csms.db", seed=seed, log_dir=self.workdir / "logs",
            clock=self.clock, db_synchronous="NORMAL", boot_retry_interval=30, **options,
        )
        self.csms = CentralSystem(config)
        await self.csms.start()

    async def close(self) -> None:
        if self.csms is not None:
            await self.csms.close()

    def url(self) -> str:
        return self.csms.url("")

    async def command(self, cp_id: str, action: str, payload: dict, timeout: float) -> dict:
        return await self.csms.execute(cp_id, action, payload, timeout=timeout)

    async def operate(self, cp_id: str, args: dict[str, Any]) -> None:
        store = self.csms.store
        if "registration" in args:
            await asyncio.to_thread(store.set_registration_status, cp_id, args["registration"])
        if "id_tag" in args:
            current = await asyncio.to_thread(store.get_id_tag, args["id_tag"]) or {}
            await asyncio.to_thread(
                store.upsert_id_tag, args["id_tag"],
                status=args.get("status", current.get("status", "Accepted")),
                expiry_date=args.get("expiry", current.get("expiry_date")),
                parent_id_tag=current.get("parent_id_tag"),
            )

    async def state(self, kind: str, cp_id: str, spec: dict[str, Any]) -> Any:
        """The store row `assert:` matches against (None when there is none)."""
        store = self.csms.store
        if kind == "charger":
            return await asyncio.to_thread(store.get_charger, cp_id)
        if kind == "connector":
            return await asyncio.to_thread(store.get_connector, cp_id, spec.get("connector_id", 1))
        if kind == "transaction":
            if isinstance(spec.get("id"), int):
                return _plain(await asyncio.to_thread(store.get_transaction, spec["id"]))
            rows = await asyncio.to_thread(store.list_transactions, charger_id=cp_id, limit=None)
            return _plain(max(rows, key=lambda row: row["id"])) if rows else None
        if kind == "wallet":
            getter = getattr(store, "get_wallet", None)
            if getter is None:
                raise Skip("this CSMS store has no wallets yet")
            return _plain(await asyncio.to_thread(getter, spec.get("user")))
        raise ValueError(kind)

    def summary(self) -> dict[str, Any]:
        rows = self.csms.store.list_transactions(limit=None)
        billed = [row for row in rows if row.get("amount") is not None]
        return {
            "transactions": len(rows),
            "energy_kwh": round(sum(row.get("energy_wh") or 0 for row in rows) / 1000, 3),
            "billed": round(sum(float(row["amount"]) for row in billed), 2),
            "currency": next((row["currency"] for row in billed if row.get("currency")), ""),
        }


def _plain(row: Any) -> Any:
    """Store rows hold Decimals; matchers compare numbers."""
    if row is None:
        return None
    return {key: float(value) if type(value).__name__ == "Decimal" else value
            for key, value in dict(row).items()}


class ExternalBackend(Backend):
    """A CSMS at `spec.url`; CSMS-initiated actions go over `spec.api_url` when given."""

    name = "external"

    def __init__(self, spec: CsmsSpec) -> None:
        self.spec = spec

    def url(self) -> str:
        assert self.spec.url is not None
        return self.spec.url

    async def command(self, cp_id: str, action: str, payload: dict, timeout: float) -> dict:
        if not self.spec.api_url:
            raise Skip(f"{action}: an external CSMS is driven only through csms.api")
        url = f"{self.spec.api_url.rstrip('/')}/api/chargers/{cp_id}/actions/{action}"
        return await asyncio.to_thread(self._post, url, payload, timeout)

    def _post(self, url: str, payload: dict, timeout: float) -> dict:
        request = urllib.request.Request(
            url, data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {self.spec.api_token or ''}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=max(timeout, 1.0)) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"CSMS API {error.code}: {error.read().decode()[:200]}") from None


def make_backend(spec: CsmsSpec, clock: Clock, workdir: Path | None = None) -> Backend:
    """The backend for `spec`; the built-in CSMS keeps its files in `workdir` (else a temp dir)."""
    if not spec.builtin:
        return ExternalBackend(spec)
    return BuiltinBackend(spec, clock, workdir or Path(tempfile.mkdtemp(prefix="chargebench-")))
