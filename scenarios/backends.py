"""The CSMS a scenario runs against: the built-in one in this process, or an external one by URL.

Both answer the same four questions the runner asks: where do charge points connect, run a
CSMS-initiated action, do an operator's action, and read state for `assert:`.

With `csms: {builtin: {tls: true}}` the built-in CSMS gets a fresh test PKI
(`chargebench.security.init_pki`): its CA verifies client certificates and signs CSRs, and one
front port takes both ws:// and wss:// (the first byte of a TLS ClientHello is 0x16), so a charge
point raising SecurityProfile 1 -> 2 -> 3 keeps its address, as it does in the field. The external
backend runs actions over the CSMS's HTTP API when the scenario names one, and says why it skips
what it cannot do (`Skip`), so a scenario written for the built-in CSMS still runs elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from chargebench.clock import Clock
from chargebench.dualport import DualPort
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

    def variables(self) -> dict[str, Any]:
        """Variables the CSMS gives the scenario (`${pki.ca_pem}` with `tls: true`)."""
        return {}

    def ca_file(self) -> Path | None:
        """The CA of the CSMS's TLS certificate, when this backend made it (`tls: true`)."""
        return None


class BuiltinBackend(Backend):
    """`csms.CentralSystem` on 127.0.0.1, a random port and an SQLite file in `workdir`."""

    name = "built-in"

    def __init__(self, spec: CsmsSpec, clock: Clock, workdir: Path) -> None:
        self.spec = spec
        self.clock = clock
        self.workdir = workdir
        self.csms: Any = None
        self.pki: Any = None
        self._ws_server: Any = None  # the ws:// listener beside the wss:// one (tls: true)
        self._front: DualPort | None = None

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
        if self.spec.tls:
            from chargebench.security import init_pki

            self.pki = await asyncio.to_thread(init_pki, self.workdir / "pki", overwrite=True)
            options.update(tls_cert=self.pki.csms_cert, tls_key=self.pki.csms_key,
                           tls_ca=self.pki.ca_cert, ca_key=self.pki.ca_key)
        config = CsmsConfig(
            port=0, db=self.workdir / "csms.db", seed=seed, log_dir=self.workdir / "logs",
            clock=self.clock, db_synchronous="NORMAL", boot_retry_interval=30, **options,
        )
        self.csms = CentralSystem(config)
        await self.csms.start()
        if self.spec.tls:
            await self._start_front()

    async def _start_front(self) -> None:
        """A plain listener beside the TLS one, and a front port choosing between them."""
        from csms.server import OcppServer

        self._ws_server = OcppServer(self.csms)
        await self._ws_server.start()
        self._front = await DualPort(
            "127.0.0.1", 0, self._ws_server.port, self.csms.port
        ).start()

    async def close(self) -> None:
        if self._front is not None:
            await self._front.close()
        if self._ws_server is not None:
            await self._ws_server.close()
        if self.csms is not None:
            await self.csms.close()

    def url(self) -> str:
        if self._front is not None:
            return f"ws://127.0.0.1:{self._front.port}/ocpp/"
        return self.csms.url("")

    def ca_file(self) -> Path | None:
        return None if self.pki is None else self.pki.ca_cert

    def variables(self) -> dict[str, Any]:
        if self.pki is None:
            return {}
        return {"pki.ca_pem": self.pki.ca_cert.read_text("ascii")}

    async def command(self, cp_id: str, action: str, payload: dict, timeout: float) -> dict:
        return await self.csms.execute(cp_id, action, payload, timeout=timeout)

    async def operate(self, cp_id: str, args: dict[str, Any]) -> None:
        store = self.csms.store
        if "user" in args:
            await asyncio.to_thread(_user_with_wallet, store, cp_id, args)
        if "baseline" in args:  # seeds/000 §6.3: the operator edits the charger's configuration
            values = {key: str(value) for key, value in args["baseline"].items()}
            await asyncio.to_thread(store.set_config_baseline, cp_id, values, replace=False)
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
        if kind == "evse":  # a 2.0.1 station's connector, by EVSE and connector (G01)
            rows = await asyncio.to_thread(store.list_evse_connectors, cp_id)
            evse, connector = spec.get("evse_id", 1), spec.get("connector_id", 1)
            return next((row for row in rows if row["evse_id"] == evse
                         and row["connector_id"] == connector), None)
        if kind == "transaction":
            if isinstance(spec.get("id"), int):
                return _plain(await asyncio.to_thread(store.get_transaction, spec["id"]))
            if isinstance(spec.get("id"), str):  # 2.0.1: the station's own transactionId
                return await asyncio.to_thread(_station_transaction, store, cp_id, spec["id"])
            rows = await asyncio.to_thread(store.list_transactions, charger_id=cp_id, limit=None)
            return _plain(max(rows, key=lambda row: row["id"])) if rows else None
        if kind == "wallet":
            getter = getattr(store, "get_wallet", None)
            if getter is None:
                raise Skip("this CSMS store has no wallets yet")
            return await asyncio.to_thread(_wallet, store, spec.get("user"))
        if kind == "user":
            return _plain(await asyncio.to_thread(store.get_user, spec.get("id")))
        if kind == "configuration":
            return await asyncio.to_thread(_configuration, store, cp_id)
        if kind == "local_list":
            version = await asyncio.to_thread(store.get_local_list_version, cp_id)
            updates = await asyncio.to_thread(store.list_local_list_updates, cp_id)
            return {"version": version, "updates": len(updates),
                    "last": updates[-1] if updates else None}
        if kind == "reservation" and isinstance(spec.get("id"), int):
            return _plain(await asyncio.to_thread(store.get_reservation, spec["id"]))
        lister = {
            "reservation": lambda: store.list_reservations(charger_id=cp_id),
            "firmware": lambda: store.list_firmware_deployments(charger_id=cp_id),
            "diagnostics": lambda: store.list_diagnostics_requests(charger_id=cp_id),
            "certificate": lambda: store.list_certificates(cp_id),
        }.get(kind)
        if lister is None:
            raise ValueError(kind)
        rows = await asyncio.to_thread(lister)  # the latest row
        return _plain(max(rows, key=lambda row: row["id"])) if rows else None

    def summary(self) -> dict[str, Any]:
        rows = self.csms.store.list_transactions(limit=None)
        billed = [row for row in rows if row.get("amount") is not None]
        return {
            "transactions": len(rows),
            "energy_kwh": round(sum(row.get("energy_wh") or 0 for row in rows) / 1000, 3),
            "billed": sum((Decimal(str(row["amount"])) for row in billed), Decimal("0.00")),
            "currency": next((row["currency"] for row in billed if row.get("currency")), ""),
        }


def _station_transaction(store: Any, cp_id: str, station_tx_id: str) -> dict[str, Any] | None:
    """The row of a 2.0.1 station's transaction, named as the station names it (its string
    transactionId, E01): `id` is that string, `transaction_id` the CSMS's row id."""
    row_id = store.station_transaction(cp_id, station_tx_id)
    row = None if row_id is None else _plain(store.get_transaction(row_id))
    if row is not None:
        row.update(id=station_tx_id, transaction_id=row_id)
    return row


def _user_with_wallet(store: Any, cp_id: str, args: dict[str, Any]) -> None:
    """`operator: {user: alice, rfid: TAG-ALICE, top_up: 500}`: the user (created with a wallet
    in the tariff's currency when missing) and a top-up."""
    from decimal import Decimal

    user_id = args["user"]
    if store.get_user(user_id) is None:
        tariff = store.get_tariff(cp_id)
        currency = tariff["currency"] if tariff else "INR"
        store.create_user(user_id, user_id, args.get("rfid") or user_id, currency=currency)
    if args.get("top_up"):
        store.wallet_credit(user_id, Decimal(str(args["top_up"])),
                            reference=f"scenario-{uuid.uuid4().hex}")


def _configuration(store: Any, cp_id: str) -> dict[str, Any]:
    """The configuration baseline, what the charger last reported (GetConfiguration) and the
    drift between them: the baseline keys whose reported value differs (seeds/000 §6.3)."""
    baseline = store.get_config_baseline(cp_id)
    reported = {key: row["value"] for key, row in store.get_reported_config(cp_id).items()}
    drift = sorted(key for key, value in baseline.items() if reported.get(key) != value)
    return {"baseline": baseline, "reported": reported, "drift": drift}


def _wallet(store: Any, user_id: str | None) -> dict[str, Any] | None:
    """The wallet row plus what its ledger says: `topped_up` and `debited` (totals, positive),
    `debits` (how many sessions were paid) and `user`."""
    wallet = _plain(store.get_wallet(user_id))
    if wallet is None:
        return None
    ledger = store.list_wallet_transactions(user_id=user_id, limit=None)
    debits = [float(row["amount"]) for row in ledger if row["type"] == "CHARGE_DEDUCT"]
    wallet.update(
        user=user_id, debits=len(debits), debited=round(-sum(debits), 2),
        topped_up=round(sum(float(row["amount"]) for row in ledger if row["type"] == "TOP_UP"), 2),
    )
    return wallet


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
