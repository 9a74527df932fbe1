"""ChargeBench playing the charge point in the cases where a CSMS is under test.

OCTT's CSMS cases are charge point scripts: boot, report connectors, authorize, start and stop
transactions, and, when the operator makes the CSMS send a command, answer it. `ChargePoint` is
that script's vocabulary, on one `HarnessPeer`. Every step is a CALL whose reply is checked, or
a CALL from the CSMS that is waited for, so a CSMS that does nothing fails at the first step.

    cp = ChargePoint(peer, settings, trigger)
    await cp.boot()
    tx = await cp.start(connector=1)                        # StartTransaction, Accepted
    await cp.command("RemoteStopTransaction", {"transactionId": tx}, {"status": "Accepted"})
    await cp.stop(tx, reason="Remote")

Transactions still open when a case ends are stopped by `close()` (the fixture calls it), so a
failed case does not leave the next one with a ConcurrentTx id tag.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from chargebench.clock import iso
from chargebench.trace import TraceRecord
from conformance.casesteps import step
from conformance.endpoints import BOOT_PAYLOAD
from conformance.expect import Mismatch, an_int, one_of, present
from conformance.harness import HarnessPeer
from conformance.settings import Settings
from conformance.triggers import Trigger

Reply = Mapping[str, Any] | Callable[[dict], Any]
#: Longest wait, in seconds, for a CSMS that answers BootNotification with Pending (1.6 §4.2).
PENDING_BUDGET = 60.0


def _brief(expect: Any) -> str:
    text = "" if not expect else repr(expect)
    return text if len(text) <= 120 else text[:117] + "..."


def at(seconds: float = 0) -> str:
    """An OCPP dateTime `seconds` from now (negative: in the past)."""
    return iso(datetime.now(UTC) + timedelta(seconds=seconds))


class ChargePoint:
    """One charge point played by ChargeBench against the CSMS under test."""

    def __init__(
        self, peer: HarnessPeer, settings: Settings, trigger: Trigger,
        *, redial: Callable[..., Awaitable[HarnessPeer]] | None = None,
    ) -> None:
        self.peer, self.cb, self.trigger = peer, settings, trigger
        self._redial = redial
        #: open transactions: id -> connector
        self.transactions: dict[int, int] = {}
        self.meter = 1000  # Wh, only ever increases (OCPP 1.6 §4.7 register values)

    @property
    def id_tag(self) -> str:
        """The id tag the CSMS under test accepts (--cb-id-tag)."""
        return self.cb.id_tag

    # Charge point initiated (OCPP 1.6 §4): the CSMS's answer is the verdict

    async def ask(self, action: str, payload: dict, expect: Mapping[str, Any] | None = None,
                  ) -> dict:  # fmt: skip
        """One expectation: send `action`, require a CALLRESULT containing `expect`; an
        Allure step of its own."""
        with step(f"{action}: CALLRESULT {_brief(expect)}"):
            return await self.peer.request(action, payload, expect)

    async def boot(self, connectors: int = 1) -> dict:
        """BootNotification until Accepted with time and heartbeat interval (§4.2), then every
        connector Available (§4.9; connector 0 is the charge point itself).

        Pending is a legal answer (§4.2): the charge point sends nothing else, answers what the
        CSMS asks meanwhile, and boots again after `interval` (its own choice of 1 s when 0),
        for at most `PENDING_BUDGET` seconds in all. Rejected fails with the option to check."""
        waited = 0.0
        while True:
            reply = await self.ask(
                "BootNotification", BOOT_PAYLOAD,
                {"status": one_of("Accepted", "Pending", "Rejected"), "currentTime": present,
                 "interval": an_int},
            )
            if reply["status"] == "Accepted":
                break
            if reply["status"] == "Rejected":
                raise Mismatch(
                    f"the CSMS rejected BootNotification of {self.peer.cp_id!r} ({reply}): "
                    "register that charge point in the CSMS, or name a registered one with "
                    "--cb-cp-id")
            pause = max(reply["interval"], 1)
            if waited + pause > PENDING_BUDGET:
                raise Mismatch(f"BootNotification still Pending after {waited:g} s (next retry "
                               f"in {reply['interval']} s, §4.2): {reply}")
            await asyncio.sleep(pause)
            waited += pause
        self.peer.booted.set()
        for connector in range(connectors + 1):
            await self.status(connector, "Available")
        return reply

    async def status(self, connector: int, status: str, error_code: str = "NoError",
                     **extra: Any) -> None:  # fmt: skip
        """StatusNotification (§4.9); the CSMS answers an empty CALLRESULT."""
        await self.ask("StatusNotification", {
            "connectorId": connector, "errorCode": error_code, "status": status,
            "timestamp": at(), **extra,
        })

    async def authorize(self, id_tag: str | None = None, status: str = "Accepted") -> dict:
        """Authorize (§4.1); the CSMS must decide `status` for the tag."""
        tag = id_tag or self.id_tag
        with self._setup_hint(tag, status):
            reply = await self.ask("Authorize", {"idTag": tag}, {"idTagInfo": {"status": status}})
        return reply["idTagInfo"]

    @contextlib.contextmanager
    def _setup_hint(self, tag: str, status: str) -> Iterator[None]:
        """A verdict on one of the run's own id tags that the CSMS does not know as the run
        says is most likely the run's setup: the failure names the option that fixes it."""
        caps = self.cb.capabilities
        hints = {
            (self.id_tag, "Accepted"): "give an id tag the CSMS accepts with --cb-id-tag",
            (caps.blocked_id_tag, "Blocked"): "declare a tag the CSMS holds as blocked: "
                                              "blocked_id_tag in --cb-capabilities",
            (caps.expired_id_tag, "Expired"): "declare a tag the CSMS holds as expired: "
                                              "expired_id_tag in --cb-capabilities",
        }
        hint = hints.get((tag, status))
        try:
            yield
        except Mismatch as verdict:
            if hint is None:
                raise
            raise Mismatch(f"{verdict}\nif the CSMS is right about {tag!r}: {hint}") from None

    async def start(self, connector: int = 1, id_tag: str | None = None, *,
                    status: str = "Accepted", timestamp: str | None = None,
                    **extra: Any) -> int:  # fmt: skip
        """StartTransaction (§4.8): a transactionId always, and the CSMS's `status` for the
        tag; returns the transaction id."""
        tag = id_tag or self.id_tag
        with self._setup_hint(tag, status):
            reply = await self.ask("StartTransaction", {
                "connectorId": connector, "idTag": tag, "meterStart": self.meter,
                "timestamp": timestamp or at(), **extra,
            }, {"transactionId": an_int, "idTagInfo": {"status": status}})
        self.transactions[reply["transactionId"]] = connector
        return reply["transactionId"]

    async def meter_values(self, connector: int, transaction_id: int | None = None,
                           *, wh: int = 500, timestamp: str | None = None) -> None:  # fmt: skip
        """MeterValues with the energy register (§4.7); the CSMS answers empty."""
        self.meter += wh
        payload: dict[str, Any] = {
            "connectorId": connector, "meterValue": [self._sample(timestamp)],
        }
        if transaction_id is not None:
            payload["transactionId"] = transaction_id
        await self.ask("MeterValues", payload)

    def _sample(self, timestamp: str | None = None, context: str = "Sample.Periodic") -> dict:
        return {"timestamp": timestamp or at(), "sampledValue": [{
            "value": str(self.meter), "context": context,
            "measurand": "Energy.Active.Import.Register", "unit": "Wh",
        }]}  # fmt: skip

    async def stop(self, transaction_id: int, *, reason: str | None = None,
                   id_tag: str | None = None, timestamp: str | None = None,
                   transaction_data: bool = False) -> dict:  # fmt: skip
        """StopTransaction (§4.10); the CSMS answers, with idTagInfo or without."""
        self.meter += 250
        payload: dict[str, Any] = {
            "transactionId": transaction_id, "meterStop": self.meter,
            "timestamp": timestamp or at(),
        }
        if reason is not None:
            payload["reason"] = reason
        if id_tag is not None:
            payload["idTag"] = id_tag
        if transaction_data:
            payload["transactionData"] = [
                self._sample(timestamp, "Transaction.Begin"), self._sample(timestamp),
            ]
        self.transactions.pop(transaction_id, None)
        # §4.10 and §6.47: the CSMS MAY send idTagInfo (optional even when an idTag was sent);
        # its schema is the library's to check
        return await self.ask("StopTransaction", payload)

    async def charge(self, connector: int = 1, *, authorize: bool = True,
                     plug_first: bool = True) -> int:  # fmt: skip
        """A session up to Charging (§3.6): Preparing, Authorize, StartTransaction, Charging,
        a MeterValues; returns the transaction id."""
        if plug_first:
            await self.status(connector, "Preparing")
        if authorize:
            await self.authorize()
        if not plug_first:
            await self.status(connector, "Preparing")
        tx = await self.start(connector)
        await self.status(connector, "Charging")
        await self.meter_values(connector, tx)
        return tx

    async def finish(self, tx: int, *, reason: str | None = "Local", unplug: bool = True) -> None:
        """Stop `tx` the way a driver ends it: StopTransaction, Finishing, then Available."""
        connector = self.transactions.get(tx, 1)
        await self.stop(tx, reason=reason, id_tag=self.id_tag)
        await self.status(connector, "Finishing")
        if unplug:
            await self.status(connector, "Available")

    async def reconnect(self, **options: Any) -> HarnessPeer:
        """Drop the connection and open a new one as the same charge point (a reboot, or the
        end of an offline period); `options` go to `conformance.endpoints.dial`."""
        if self._redial is None:
            raise RuntimeError("this ChargePoint cannot reconnect (no redial given)")
        await self.peer.close()
        self.peer = await self._redial(**options)
        return self.peer

    async def reboot(self, connectors: int = 1) -> None:
        """A reboot: new connection, BootNotification Accepted, connectors reported (§4.2)."""
        await self.reconnect()
        await self.boot(connectors)

    async def still_serving(self) -> None:
        """The CSMS still answers on this connection (it coped with what came before)."""
        await self.ask("Heartbeat", {}, {"currentTime": present})

    # Central System initiated (OCPP 1.6 §5): the CALL the CSMS sends is the verdict

    async def command(
        self, action: str, request: Mapping[str, Any], reply: Reply,
        expect: Mapping[str, Any] | None = None,
    ) -> dict:
        """Have the CSMS send `action` (the trigger hook asks it to, with `request`), require
        its CALL to contain `expect` (default: `request`), answer `reply` (a payload, or a
        function of the request payload), and return the CALL's payload."""
        self.peer.handlers[action] = reply if callable(reply) else (lambda _: dict(reply))
        problems = getattr(self.trigger, "problems", [])
        before = len(problems)
        wanted = request if expect is None else expect
        with step(f"the CSMS sends {action} {_brief(wanted)}"):
            await self.trigger.send(self.peer.cp_id, action, dict(request))
            try:
                frame: TraceRecord = await self.peer.wait_for(action, wanted)
            except Mismatch as verdict:
                if len(problems) > before:
                    raise Mismatch(f"{verdict}\n" + "\n".join(problems[before:])) from None
                raise
        return frame.payload

    async def close(self) -> None:
        """Stop what a failed case left running (best effort; no verdict)."""
        for tx in list(self.transactions):
            with contextlib.suppress(Exception):
                await self.stop(tx, reason="Other")


# Cases made of one CSMS-initiated command (a table in the case modules)

Step = Callable[[ChargePoint], Awaitable[Any]]
After = Callable[[ChargePoint, dict], Awaitable[Any]]


@dataclass(frozen=True)
class Command:
    """One OCTT case that is a CSMS-initiated command: what the operator asks the CSMS to
    send, what its CALL must contain, the charge point's answer, and what happens around it.
    The case ends by checking that the CSMS still serves the connection after that answer."""

    case: str
    action: str
    #: the trigger payload; a function of the ChargePoint when it depends on the run
    request: Mapping[str, Any] | Callable[[ChargePoint], dict]
    reply: Reply
    #: what the CALL must contain (default: the request)
    expect: Mapping[str, Any] | None = None
    #: charge point steps before the command (e.g. a connector Faulted)
    before: Step | None = None
    #: steps after the answer, given the CALL's payload (e.g. status notifications)
    after: After | None = None

    async def run(self, cp: ChargePoint) -> dict:
        await cp.boot()
        if self.before is not None:
            await self.before(cp)
        request = self.request(cp) if callable(self.request) else self.request
        payload = await cp.command(self.action, request, self.reply, self.expect)
        if self.after is not None:
            await self.after(cp, payload)
        await cp.still_serving()
        return payload


def params(commands: list[Command]) -> list:
    """pytest parameters, one per command case, marked with its OCTT id."""
    import pytest

    return [pytest.param(c, id=c.case, marks=pytest.mark.octt(c.case)) for c in commands]


def notifications(action: str, *statuses: str, **fields: Any) -> After:
    """`after` step: the charge point reports progress (FirmwareStatusNotification, ...), each
    answered by the CSMS. `fields` naming a field of the command (`requestId="requestId"`) copy
    its value from the CSMS's CALL."""

    async def report(cp: ChargePoint, command: dict) -> None:
        extra = {name: command[source] for name, source in fields.items() if source in command}
        for status in statuses:
            await cp.ask(action, {"status": status, **extra})

    return report


def security_event(kind: str) -> Step:
    """A SecurityEventNotification (whitepaper A04); the CSMS must answer it."""

    async def send(cp: ChargePoint, *_: Any) -> None:
        await cp.ask(
            "SecurityEventNotification", {"type": kind, "timestamp": at(), "techInfo": "OCTT"}
        )

    return send


@cache
def sample_certificate() -> str:
    """A self-signed CA certificate (PEM) to install, delete or sign firmware with."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ChargeBench Conformance CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
