"""Locust users that are OCPP 2.0.1 charging stations, on the same gevent transport as 1.6's.

The 1.6 users (`loadtest.users`) with the 2.0.1 messages: one `OcppClient` connection each,
speaking subprotocol ocpp2.0.1 through the session core, which validates every payload against
the 2.0.1 schemas before it goes out. Boot and status follow B01 (BootNotification with reason
PowerUp, then a StatusNotification per EVSE connector, G01); a charging session is E03
(Authorize, then TransactionEvent Started with the idToken, Updated with periodic meter values,
Ended with stoppedReason Local), each TransactionEvent counted in Locust's statistics under its
eventType ("TransactionEvent Started", "... Updated", "... Ended"), since the CSMS's work differs
(Ended bills the session).

Run them with `--ocpp 2.0.1` (or `both`): `chargebench load --builtin-csms -- --ocpp 2.0.1`.
"""

from __future__ import annotations

import itertools
import uuid

import gevent
from locust import task

from chargebench.ocppj.versions import OCPP201
from loadtest import messages
from loadtest.handlers import Handler, handler_table_201
from loadtest.users import OcppUser, recorded

__all__ = ["BootStormStation201", "ChargingStation201", "IdleStation201", "Station201User"]

#: A station's one EVSE with one connector (the 1.6 users' connector 1)
EVSE, CONNECTOR = 1, 1


class Station201User(OcppUser):
    """Base of the 2.0.1 station users: boot and connector statuses the 2.0.1 way."""

    abstract = True
    version = OCPP201

    def handlers(self) -> dict[str, Handler]:
        return handler_table_201()

    def boot_notification(self) -> dict:
        """B01: BootNotificationRequest with reason PowerUp."""
        return messages.boot_notification_201(self.cp_id)

    def report_available(self) -> None:
        """B01.FR.05: after the boot, every connector's status."""
        self.connector_status("Available")

    def connector_status(self, status: str) -> None:
        """G01 StatusNotification of the one connector (ConnectorStatusEnumType)."""
        self.client.call("StatusNotification",
                         messages.status_notification_201(EVSE, CONNECTOR, status))


class IdleStation201(Station201User):
    """Boots, reports Available, then only sends Heartbeats (G02)."""

    weight = 6

    def wait_time(self) -> float:
        return self.options.heartbeat_interval

    @task
    @recorded
    def heartbeat(self) -> None:
        self.online()
        self.client.call("Heartbeat")


class ChargingStation201(Station201User):
    """Boots, then runs transactions: Authorize, TransactionEvent Started, Updated every N s
    with meter values, Ended."""

    weight = 3

    def wait_time(self) -> float:
        return self.options.meter_interval

    @task
    @recorded
    def charge(self) -> None:
        self.online()
        options, call = self.options, self.client.call
        tag = options.id_tag
        call("Authorize", messages.authorize_201(tag))  # C01
        self.connector_status("Occupied")
        tx_id = str(uuid.uuid4())  # E01: the station names its transaction
        seq = itertools.count()
        power, energy = 11000.0, 0

        def event(kind: str, trigger: str, id_tag: str | None = None,
                  stopped_reason: str | None = None) -> dict:
            payload = messages.transaction_event(
                kind, next(seq), tx_id, trigger, id_tag=id_tag,
                meter=messages.meter_value_201(energy, power), stopped_reason=stopped_reason)
            return call("TransactionEvent", payload, name=f"TransactionEvent {kind}")

        event("Started", "Authorized", id_tag=tag)  # E03: authorized first, then plugged
        for _ in range(options.meter_values):
            gevent.sleep(options.meter_interval)
            energy += int(power * options.meter_interval / 3600)
            event("Updated", "MeterValuePeriodic")  # J02
        event("Ended", "StopAuthorized", id_tag=tag, stopped_reason="Local")  # E07
        self.connector_status("Available")


class BootStormStation201(Station201User):
    """Connects, boots, disconnects, again and again: the reconnect storm after an outage."""

    weight = 1

    def wait_time(self) -> float:
        return self.options.reboot_interval

    @task
    @recorded
    def reboot(self) -> None:
        self.client.connect()
        try:
            self.boot()
        finally:
            self.client.close()
