"""One virtual OCPP 2.0.1 charging station: the composition root of its parts.

Build it from a device model (`sim.v201.settings.Settings` over
`sim.v201.device_model.DeviceModel`) and a hardware section (`sim.hardware.Hardware`: one EVSE
per connector), `await st.start()`, `await st.wait_booted()`, then drive it the way a user would,
with the control surface the 1.6 charge point has (`plug_in()`, `present_id_tag()`, `ev_full()`,
`plug_out()`, `go_offline()` / `go_online()`). `await st.stop()` closes the connection.

What is shared with 1.6: the session core and its asyncio adapter, the handler dispatch with its
registration gate (`sim.dispatch`), the meter and EV physics (`sim.ev`), the offline queue
(`sim.offline_queue`, E04), the clock and the fault hooks, and the feature objects the 2.0.1
blocks reuse through `sim.v201.features` (certificate store and security log, firmware
updater, log uploader, profile engine). What is 2.0.1's: the boot (B01-B03), the connector
statuses (`sim.v201.connectors`, G01), the transaction rules (`sim.v201.transaction`,
`sim.v201.evse`, E01-E07), the CSMS commands (`sim.v201.handlers`) and per block: A security
and network profiles (`sim.v201.security`), I cost (`.tariff`), K smart charging
(`.smart_charging`), L firmware (`.firmware`), N logs and customer information (`.logs`), O
display messages (`.display`).

Beyond the 1.6 verbs: `set_external_limit()` / `clear_external_limit()` (K12/K13),
`request_certificate()` (A02), `data_transfer()` (P02), `get_15118_ev_certificate()` and
`get_certificate_status()` (M01, M06), `display_showing()` and `cost_shown()` (what a driver
sees, O01, I02); an `EV(iso15118=True)` sends its charging needs (K15).

The connection (connect, boot, heartbeat, clock-aligned readings, reboot) is
`sim.v201.online`; its state is the `Link` the 1.6 charge point has (`sim.features.connection`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from chargebench.clock import Clock
from chargebench.ocppj import (
    CallErrorReply,
    CallFailed,
    InvalidReply,
)
from chargebench.ocppj.versions import OCPP201
from chargebench.trace import TraceRecord
from sim import dispatch, tasks
from sim.ev import EV, Meter
from sim.features.connection import Handlers, Link, LinkedSender, TlsFiles
from sim.features.faults import FaultPlan
from sim.hardware import Hardware
from sim.offline_queue import OfflineQueue, QueuedMessage
from sim.v201 import (
    display,
    metering,
    online,
    reservations,
    security,
    smart_charging,
    tariff,
)
from sim.v201 import evse as flows
from sim.v201.auth_cache import AuthCache
from sim.v201.connectors import Event, Status
from sim.v201.evse import Evse
from sim.v201.features import Features
from sim.v201.local_list import LocalList
from sim.v201.settings import Settings
from sim.v201.smart_charging import ExternalLimit

__all__ = ["ChargingStation"]

log = logging.getLogger(__name__)

class ChargingStation(LinkedSender):
    """A simulated OCPP 2.0.1 charging station modelled on EVerest libocpp."""

    def __init__(
        self,
        settings: Settings,
        hardware: Hardware | None = None,
        *,
        csms_url: str,
        station_id: str | None = None,
        clock: Clock | None = None,
        state_dir: str | Path | None = None,
        trace_sink: Callable[[TraceRecord], None] | None = None,
        ev_factory: Callable[[int], EV] | None = None,
        rng: random.Random | None = None,
        call_timeout: float = 30.0,
        fault_plan: FaultPlan | None = None,
        tls: TlsFiles | None = None,
    ) -> None:
        """`csms_url`: the CSMS's OCPP-J base URL (the station id is appended, OCPP-J 2.0.1
        §3.1.1); `station_id` overrides the device model's; `state_dir` keeps the queue of
        TransactionEvents across restarts (E04); `ev_factory(n)` makes the EV plugged into
        EVSE n; `tls`: the CA file (and for security profile 3 the client certificate) to use
        instead of the certificates installed over OCPP (`sim.v201.security`)."""
        self.settings = settings
        self.id: str = station_id or settings.text("ChargePointId") or "CS201"
        self.hardware = hardware or Hardware(connectors=1)
        self.csms_url = csms_url.rstrip("/")
        self.clock = clock or Clock()
        self.trace_sink = trace_sink
        self.ev_factory = ev_factory or (lambda _n: EV())
        self.rng = rng or random.Random()
        self.call_timeout = call_timeout
        self.fault_plan = fault_plan
        self.tls = tls
        self.state_dir = state_dir
        #: the network profile being dialled and the last that connected (B10, A05)
        self.network = security.NetworkState(profile=settings.int("SecurityProfile"))
        self._features: Features | None = None
        #: K12: limits an external system put on EVSEs (0: the station), None: none
        self.external_limits: dict[int, ExternalLimit] | None = None
        #: O01: the display messages by id; I02/I03: the cost shown per transaction
        self.display_messages: dict[int, dict] | None = None
        self.costs: dict[str, dict] | None = None
        self.evses = [Evse(n, Meter(self.hardware)) for n in range(1, self.hardware.connectors + 1)]
        self.queue = OfflineQueue(
            state_dir,
            attempts=lambda: settings.int("MessageAttempts") or 1,
            retry_interval=lambda: settings.int("MessageAttemptInterval"),
            sleep=self.clock.sleep,
            on_delivered=self._on_delivered,
        )
        #: C10: the IdTokenInfo the CSMS sent per idToken; D01: the list the CSMS sent
        self.auth_cache = AuthCache()
        #: idToken -> the groupIdToken the CSMS last gave it (C09, H03)
        self.groups: dict[str, dict | None] = {}
        self.local_list = LocalList(state_dir)
        #: the connection lifecycle's state, shared with the 1.6 charge point
        #: (`sim.features.connection.Link`): session, registration, online wanted, booted...
        self.link = Link(dispatch.HandlerTable(self, OCPP201))
        #: B01.FR.09: why the next BootNotification is sent
        self.boot_reason = "PowerUp"
        #: what the CSMS last heard per (evse, connector) (G01: report changes missed offline)
        self._reported: dict[tuple[int, int], Status] = {}
        #: set to boot at once while waiting for the next BootNotification (F06 trigger)
        self.boot_now: asyncio.Event | None = None
        #: set by the next accepted boot: the firmware updater waits for it (L01.FR.32)
        self.rebooted: asyncio.Event | None = None
        #: monotonic time the last connection ended (B04: how long the station was offline)
        self.offline_since: float | None = None
        self._drain: asyncio.Task | None = None
        self._tasks: list[asyncio.Task] = []
        self._sender: asyncio.Lock | None = None

    # Lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Power on: connect, boot and keep the connection up (in a background task)."""
        self.link.online_wanted.set()
        self.link.booted.clear()
        self.link.stopping = False
        self.link.main = tasks.background(online.run(self), self.id)

    async def wait_booted(self, timeout: float | None = None) -> None:
        """Wait until the CSMS accepted our BootNotification (B01)."""
        assert self.link.main is not None, "call start() first"
        async with asyncio.timeout(timeout):
            await self.link.booted.wait()

    async def stop(self) -> None:
        """Shut down: close the connection; undelivered events stay queued."""
        self.link.stopping = True
        current = asyncio.current_task()
        pending = [t for t in (self.link.main, self.link.ticker, self._drain, *self._tasks)
                   if t is not None and t is not current and not t.done()]
        for task in pending:
            task.cancel()
        if self.session is not None:
            with contextlib.suppress(Exception):
                await self.session.close()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._features is not None:
            self._features.close()
        self.queue.close()

    @property
    def features(self) -> Features:
        """The certificate store, security log, firmware updater, log uploader and profile
        engine (`sim.v201.features`), built on first use."""
        if self._features is None:
            self._features = Features(self)
        return self._features

    def features_built(self, name: str) -> bool:
        """Whether feature `name` exists (without building the features to tell)."""
        return self._features is not None and self._features.built(name)

    def deliver_security_events(self) -> None:
        """A04.FR.02/03: send the critical security events queued while offline (none when the
        security log was never used)."""
        if self._features is not None and self._features.built("events"):
            self.spawn(self._features.deliver_events())

    @property
    def security_profile(self) -> int:
        """The security profile of the connection in use (A00)."""
        return self.network.profile

    async def firmware_installed(self, version: str) -> None:
        """L01.FR.32 (a): the new firmware is installed: reboot into it and return once it runs,
        i.e. the CSMS accepted the next BootNotification (reason FirmwareUpdate, the new
        firmwareVersion); the updater then sends Installed and FirmwareUpdated from it. Queued
        security events go out first, so the reboot does not cut their delivery (A04.FR.02)."""
        self.settings.set("FirmwareVersion", version, persist=True)
        if self.online:
            await self.features.deliver_events()
        self.rebooted = rebooted = asyncio.Event()
        self.request_reboot("FirmwareUpdate")
        await rebooted.wait()

    def spawn(self, coro: Coroutine) -> asyncio.Task:
        """Run `coro` in the background; cancelled by `stop()`, its failure logged once."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.append(task)
        task.add_done_callback(self._reap)
        return task

    def _reap(self, task: asyncio.Task) -> None:
        self._tasks.remove(task)
        tasks.reap(task, self.id)

    # Connection ------------------------------------------------------------------------------

    def request_reboot(self, boot_reason: str) -> None:
        """Close the connection and boot again; the next BootNotification says `boot_reason`
        (BootReasonEnumType: RemoteReset, PowerUp, FirmwareUpdate..., B01.FR.09)."""
        self.link.reboot_reason = boot_reason
        if self.session is not None:
            self.spawn(self.session.close())

    def boot_requested(self) -> bool:
        """F06: a TriggerMessage for BootNotification while not Accepted: boot now. False
        when no boot is being waited for."""
        if self.boot_now is None:
            return False
        self.boot_now.set()
        return True


    # Sending -----------------------------------------------------------------------------------

    @property
    def handlers(self) -> Handlers:
        """The 2.0.1 handler table (`sim.v201.handlers`, behind `sim.dispatch`'s rules)."""
        return self.link.handlers

    async def status_changed(self, evse: Evse, status: Status | None) -> None:
        """G01: StatusNotification for a connector whose status changed (None: it did not).
        Offline, the change is reported after the reconnect (`_report_statuses`)."""
        if status in (Status.FAULTED, Status.UNAVAILABLE) and evse.reservation is not None:
            self.spawn(reservations.end(self, evse, "Removed"))  # H01.FR.16/17
        if status is None or not self.online:
            return
        await self._notify_status(evse)

    def status_payload(self, evse: Evse) -> dict:
        """StatusNotificationRequest of `evse`'s connector now (G01)."""
        connector = evse.connector
        return {"timestamp": self.clock.iso_now(), "connectorStatus": str(connector.status),
                "evseId": evse.id, "connectorId": connector.connector_id}

    async def _notify_status(self, evse: Evse) -> None:
        connector = evse.connector
        with contextlib.suppress(CallFailed):
            await self.call("StatusNotification", self.status_payload(evse))
            self._reported[(evse.id, connector.connector_id)] = connector.status

    async def report_statuses(self, *, changed_only: bool) -> None:
        """B01.FR.05: every connector after an Accepted boot; after a reconnect every one
        (B04.FR.01) or those whose status changed while offline (B04.FR.02)."""
        for evse in self.evses:
            key = (evse.id, evse.connector.connector_id)
            if not changed_only or self._reported.get(key) is not evse.connector.status:
                await self._notify_status(evse)

    async def transaction_event(self, evse: Evse, event_type: str, trigger: str, *,
                                meter_values: dict | list | None = None,
                                stopped_reason: str | None = None,
                                token: dict | None = None) -> dict | None:
        """Queue the next TransactionEventRequest of `evse`'s transaction (E04.FR.01: always
        through the queue, so order holds) and, online, wait for its response (None when it
        was deferred)."""
        tx = evse.tx
        assert tx is not None
        values = [meter_values] if isinstance(meter_values, dict) else meter_values
        payload = tx.event(event_type, trigger, self.clock.iso_now(), meter_values=values,
                           stopped_reason=stopped_reason, offline=not self.online,
                           token=token)
        evse.remote_start_id = None  # F02.FR.21 is met by this event
        msg = self.queue.put("TransactionEvent", payload)
        self.flush_queue()
        if not self.online:
            return None
        return await self.queue.waiter(msg)

    def flush_queue(self) -> asyncio.Task | None:
        """E04.FR.02: deliver the queue, in order, when online."""
        if not self.online or not self.queue:
            return None
        if self._drain is None or self._drain.done():
            self._drain = self.spawn(self.queue.deliver(self._deliver))
        return self._drain

    async def _deliver(self, action: str, payload: dict) -> dict:
        """`call` for the queue, saying why an attempt failed (the queue retries it: E04)."""
        try:
            return await self.call(action, payload)
        except (InvalidReply, CallErrorReply) as error:
            log.warning("%s: %s (seqNo %s)", self.id, error, payload.get("seqNo"))
            raise

    def _on_delivered(self, msg: QueuedMessage, reply: dict | None) -> None:
        """E05: an idTokenInfo not Accepted ends the authorization when StopTxOnInvalidId."""
        if reply is None or msg.action != "TransactionEvent":
            return
        if "totalCost" in reply or "updatedPersonalMessage" in reply:
            tariff.transaction_response(self, msg.payload, reply)  # I02.FR.04, I03.FR.03
        info = reply.get("idTokenInfo")
        if info is not None and "idToken" in msg.payload:
            self.remember(msg.payload["idToken"], info)  # C10.FR.05
        if info is None or info.get("status") == "Accepted":
            return
        evse = next((e for e in self.evses if e.tx is not None and e.tx.transaction_id
                     == msg.payload["transactionInfo"]["transactionId"]), None)
        if evse is None or not evse.authorized:
            return
        if self.settings.bool("StopTxOnInvalidId"):
            self.spawn(flows.deauthorized(self, evse))
        elif self.settings.int("MaxEnergyOnInvalidId") <= 0 and (
                "EnergyTransfer" not in self.settings.list("TxStopPoint")):
            # E05.FR.02: no energy allowed on an invalid idToken: SuspendedEVSE (a positive
            # MaxEnergyOnInvalidId lets it charge, E05.FR.03; its cap is not enforced here)
            self.spawn(flows.suspended_invalid(self, evse))

    def readings(self, evse: Evse, measurands: str, context: Any,
                 when: datetime | None = None) -> dict | None:
        """The MeterValueType of the measurand list variable `measurands` now (J01, J02);
        `when`: the instant it stands for (a clock-aligned one)."""
        try:
            return metering.meter_value(evse.meter, self.settings.list(measurands), context,
                                        when or self.clock.now())
        except ValueError as error:  # a name the meter does not know: no readings, logged
            log.warning("%s: SampledDataCtrlr.%s: %s", self.id, measurands, error)
            return None

    # Control surface (the same verbs as the 1.6 charge point's, sim.control) ------------------

    def evse(self, evse_id: int) -> Evse:
        if not 1 <= evse_id <= len(self.evses):
            raise ValueError(f"{self.id} has no EVSE {evse_id}")
        return self.evses[evse_id - 1]

    async def plug_in(self, connector: int = 1) -> None:
        """An EV is plugged into EVSE `connector` (one connector per EVSE)."""
        await flows.plug_in(self, self.evse(connector), self.ev_factory(connector))

    async def plug_out(self, connector: int = 1) -> None:
        await flows.plug_out(self, self.evse(connector))

    async def present_id_tag(self, tag: str, connector: int | None = None) -> bool:
        """A driver presents an RFID card (IdTokenType ISO14443): C01 Authorize, then start
        (E02/E03) or, on an EVSE it authorized, stop (E07). True when accepted."""
        token = {"idToken": tag, "type": "ISO14443"}
        running = next((e for e in self.evses if e.authorized and e.token
                        and e.token.get("idToken") == tag), None)
        if running is not None and (connector is None or running.id == connector):
            await flows.stop_authorized(self, running, token)  # E07.FR.01 (a)
            return True
        if connector is not None and self.evse(connector).authorized:
            # C01/E07: another idToken than the one that started the transaction is asked
            # about and stops nothing, unless Accepted with the same GroupId (C09.FR.03/04)
            running = self.evse(connector)
            if await self.authorize(token) and running.token is not None and (
                    self._group(token) is not None
                    and self._group(token) == self._group(running.token)):
                await flows.stop_authorized(self, running, token)
                return True
            return False
        reserved = reservations.for_token(self, token)  # H03.FR.01
        if connector is not None:
            evse: Evse | None = self.evse(connector)
        else:
            evse = reserved or next(
                (e for e in self.evses if not e.authorized and e.reservation is None
                 and e.connector.status.operative and (e.ev_connected or e.tx is None)), None)
        if evse is None or not evse.connector.status.operative:
            return False
        if evse.reservation is not None and evse is not reserved and not (
                await self._group_holds(evse, token)):
            return False  # reserved for another idToken (H03)
        if not await self.authorize(token):
            return False  # E02.FR.20 note: an unsuccessful authorization sends no event
        await flows.authorized(self, evse, token)
        return True

    def _master_pass(self, token: dict) -> bool:
        """The CSMS gave `token` the GroupId AuthCtrlr.MasterPassGroupId (C12.FR.09,
        C16.FR.03: it starts no transaction)."""
        master = self.settings.text("MasterPassGroupId")
        group = self._group(token)
        return bool(master) and group is not None and group[0] == master

    def _group(self, token: dict) -> tuple[str, str] | None:
        """The GroupId the CSMS last gave `token` (its IdTokenInfo.groupIdToken: C09)."""
        group = self.groups.get(token.get("idToken", ""))
        return (group.get("idToken", ""), group.get("type", "")) if group else None

    async def _group_holds(self, evse: Evse, token: dict) -> bool:
        """H03.FR.04/06/08: a reservation with a groupIdToken is also used by an idToken of
        that group; the group is the CSMS's to say (an AuthorizeRequest: H03.FR.08). The
        reservation is then used (H03.FR.09/10)."""
        reservation = evse.reservation
        if reservation is None or reservation.group_id_token is None or not self.online:
            return False
        try:
            reply = await self.call("Authorize", {"idToken": token})
        except CallFailed:
            return False
        self.remember(token, reply["idTokenInfo"])
        self.groups[token.get("idToken", "")] = reply["idTokenInfo"].get("groupIdToken")
        if not reservation.matches(token, reply["idTokenInfo"].get("groupIdToken")):
            return False
        evse.reservation_used = reservation.id
        await reservations.end(self, evse, None)
        return True

    async def authorize(self, token: dict) -> bool:
        """C01 Authorize online, its IdTokenInfo kept in the Authorization Cache (C10.FR.04).
        A token on the Local Authorization List or cached Accepted needs no Authorize with
        AuthCtrlr.LocalPreAuthorize (C12.FR.02, C14) and is taken offline with
        LocalAuthorizeOffline (C13); offline, a token neither holds is taken only with
        OfflineTxForUnknownIdEnabled (C13.FR.02/04). Either way
        the CSMS judges it again in its TransactionEventResponse (E05, C12.FR.03)."""
        s = self.settings
        listed = self.local_list.status(token) if s.bool("LocalAuthListEnabled") else None
        cached = self.auth_cache.status(token, self.clock.now()) \
            if s.bool("AuthCacheEnabled") else None
        known = listed or cached  # the list outranks the cache (C13, C14)
        if self.online:
            if known == "Accepted" and s.bool("LocalPreAuthorize"):
                return not self._master_pass(token)  # C12.FR.09
            if s.bool("DisableRemoteAuthorization"):  # appendix 3 AuthCtrlr: never asks
                return known == "Accepted"
            if listed is None and cached not in (None, "Accepted") and s.bool(
                    "AuthCacheDisablePostAuthorize"):
                return False  # appendix 3 AuthCacheCtrlr: C10.FR.03/C12.FR.05 disabled
            if listed not in (None, "Accepted") and s.bool("LocalAuthListDisablePostAuthorize"):
                return False  # appendix 3 LocalAuthListCtrlr: C14.FR.03 disabled
            try:
                reply = await self.call("Authorize", {"idToken": token})
            except CallFailed:  # the connection went while asking: offline rules below
                if self.online:
                    return False
            else:
                self.remember(token, reply["idTokenInfo"])
                self.groups[token.get("idToken", "")] = reply["idTokenInfo"].get("groupIdToken")
                if self._master_pass(token):
                    return False  # C16.FR.03: a master pass does not start a transaction
                return reply["idTokenInfo"]["status"] == "Accepted"
        if known is not None:
            return known == "Accepted" and s.bool("LocalAuthorizeOffline")
        return s.bool("OfflineTxForUnknownIdEnabled")

    def remember(self, token: dict, info: dict) -> None:
        """C10.FR.01/04/05: the CSMS's latest IdTokenInfo for `token`, when the cache is on."""
        if self.settings.bool("AuthCacheEnabled"):
            self.auth_cache.remember(token, info, self.clock.now(),
                                     self.settings.int("AuthCacheLifeTime"))

    async def ev_full(self, connector: int = 1) -> None:
        """The EV's battery reached its target: SuspendedEV (E01.FR.19)."""
        evse = self.evse(connector)
        evse.advance(self.clock.monotonic())
        if evse.meter.ev is not None:
            evse.meter.ev.soc = evse.meter.ev.target_soc
        await flows.ev_changed(self, evse)

    async def go_offline(self) -> None:
        """Drop the connection and stay offline until `go_online()`."""
        self.link.online_wanted.clear()
        if self.session is not None:
            await self.session.close()

    async def go_online(self) -> None:
        self.link.online_wanted.set()

    async def fault(self, connector: int, error_code: str = "OtherError") -> None:
        """A fault prevents charging: Faulted (§3.23); a running transaction ends,
        triggerReason AbnormalCondition (E06.FR.16). `error_code` has no field in 2.0.1's
        StatusNotification (NotifyEvent carries problems): kept for the 1.6 verb's shape."""
        evse = self.evse(connector)
        await self.status_changed(evse, evse.connector.apply(Event.FAULT))
        if evse.tx is not None:
            await flows.abnormal_end(self, evse, "Other")
        elif evse.meter.contactor_closed:
            evse.meter.open_contactor()

    def jam_lock(self, connector: int, jammed: bool = True) -> None:
        """The cable lock's mechanism fails (UnlockConnector then answers UnlockFailed,
        F05.FR.05) or is repaired."""
        self.evse(connector).lock_jammed = jammed

    async def clear_fault(self, connector: int) -> None:
        """The fault is resolved: back to the status the other facts give."""
        evse = self.evse(connector)
        await self.status_changed(evse, evse.connector.apply(Event.FAULT_CLEARED))

    async def power_loss(self) -> None:
        """Power is cut and comes back: open transactions end with stoppedReason PowerLoss
        (queued, sent after the next Accepted boot: B01.FR.08), the station boots again with
        reason PowerUp."""
        self.link.reboot_reason = "PowerUp"
        session = self.session
        self.link.session = None  # nothing goes out from now on: the events are queued
        for evse in self.evses:
            if evse.tx is not None:
                await flows.abnormal_end(self, evse, "PowerLoss")
        if session is not None:
            await session.close()

    async def set_external_limit(self, limit: float, unit: str = "W", evse: int = 0,
                                 source: str = "EMS") -> None:
        """An external system (EMS, DSO) limits the station (evse 0) or an EVSE: applied at
        once and told to the CSMS in NotifyChargingLimit (K12)."""
        await smart_charging.set_external_limit(self, limit, unit, evse, source)

    async def clear_external_limit(self, evse: int = 0) -> None:
        """The external limit is released: ClearedChargingLimit (K13)."""
        await smart_charging.clear_external_limit(self, evse)

    def display_showing(self) -> list[str]:
        """The display messages a driver sees now, most urgent first (O01)."""
        return display.showing(self)

    def cost_shown(self, transaction_id: str) -> dict | None:
        """The cost shown for a transaction (I02, I03): totalCost, final, message."""
        return tariff.shown(self, transaction_id)

    async def request_certificate(self, kind: str = "ChargingStationCertificate") -> bool:
        """A02/A03: a new key pair and SignCertificate with its CSR; True when Accepted (the
        certificate follows in CertificateSigned)."""
        return await security.request_certificate(self, kind)

    async def data_transfer(self, vendor_id: str, message_id: str | None = None,
                            data: Any = None) -> dict:
        """P02: a DataTransfer to the CSMS; its response."""
        payload: dict[str, Any] = {"vendorId": vendor_id}
        if message_id is not None:
            payload["messageId"] = message_id
        if data is not None:
            payload["data"] = data
        return await self.call("DataTransfer", payload)

    async def get_15118_ev_certificate(self, exi_request: str, action: str = "Install",
                                       schema: str = "urn:iso:15118:2:2013:MsgDef") -> dict:
        """M01/M02: an EV asks for its contract certificate through the station; the CSMS's
        Get15118EVCertificateResponse (status, exiResponse)."""
        return await self.call("Get15118EVCertificate", {
            "iso15118SchemaVersion": schema, "action": action, "exiRequest": exi_request})

    async def get_certificate_status(self, ocsp_request_data: dict) -> dict:
        """M06: the OCSP status of a certificate, through the CSMS."""
        return await self.call("GetCertificateStatus", {"ocspRequestData": ocsp_request_data})

    def snapshot(self) -> dict[str, Any]:
        """Where each EVSE is, for summaries and assertions."""
        return {
            "id": self.id, "registration": self.registration, "online": self.online,
            "queued": len(self.queue),
            "connectors": {e.id: str(e.connector.status) for e in self.evses},
            "transactions": {e.id: e.tx.transaction_id for e in self.evses if e.tx},
        }
