"""Locust users that are OCPP 1.6 charge points, one `OcppClient` connection each.

Network work happens in tasks, never in `on_start` (an exception there kills the user for the
rest of the run): every task first calls `online()`, which connects and boots when needed. A
failed CALL is already a failed request in Locust's stats, so tasks turn it into
`RescheduleTask` instead of a logged traceback per failure.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable

import gevent
from locust import User, task
from locust.exception import RescheduleTask

from chargebench.ocppj.errors import CallFailed
from chargebench.ocppj.versions import DEFAULT_VERSION, OcppVersion
from loadtest import messages
from loadtest.handlers import Handler, handler_table
from loadtest.options import LoadOptions
from loadtest.transport import OcppClient

logging.getLogger("websocket").setLevel(logging.WARNING)

#: Per-process serial numbers; the worker index makes ids unique across workers.
_serial = itertools.count(1)


def charge_point_id(prefix: str, worker_index: int) -> str:
    """`PREFIX-<worker>-<n>`: unique across the workers of one run (OCPP ids ≤ 48 chars)."""
    return f"{prefix}-{worker_index}-{next(_serial)}"


def recorded(body: Callable[[OcppUser], None]) -> Callable[[OcppUser], None]:
    """Run a task body; failed CALLs (already counted) reschedule instead of raising."""

    @functools.wraps(body)
    def run(user: OcppUser) -> None:
        try:
            body(user)
        except (CallFailed, ConnectionError) as exc:
            raise RescheduleTask() from exc

    return run


class OcppUser(User):
    """Base of the charger users: an id, a connection, boot on (re)connect. `version` and
    `handlers` say which OCPP the connection speaks (2.0.1: `loadtest.users201`)."""

    abstract = True
    connectors = 1
    version: OcppVersion = DEFAULT_VERSION

    def handlers(self) -> dict[str, Handler]:
        """This charger's answers to CSMS-initiated CALLs (a fresh table per user)."""
        return handler_table()

    def on_start(self) -> None:
        self.options = LoadOptions.of(self.environment.parsed_options)
        runner = self.environment.runner
        self.cp_id = charge_point_id(self.options.cp_prefix, getattr(runner, "worker_index", 0))
        self.client = OcppClient(
            f"{(self.host or '').rstrip('/')}/{self.cp_id}",
            request_event=self.environment.events.request,
            call_timeout=self.options.call_timeout,
            handlers=self.handlers(),
            version=self.version,
        )
        self.boot_interval: float | None = None

    def on_stop(self) -> None:
        self.client.close()

    def online(self) -> None:
        """Connect and boot if not connected (OCPP 1.6 §4.2, 2.0.1 B01: boot before anything
        else), then report every connector Available."""
        if self.client.connected:
            return
        self.client.connect()
        self.boot()
        self.report_available()

    def boot_notification(self) -> dict:
        """This charger's BootNotificationRequest payload, in its version's words."""
        return messages.boot_notification(self.cp_id)

    def report_available(self) -> None:
        """StatusNotification Available of connector 0 (the charge point) and each connector."""
        for connector in range(self.connectors + 1):
            self.status(connector, "Available")

    def boot(self) -> None:
        reply = self.client.call("BootNotification", self.boot_notification())
        if reply["status"] != "Accepted":
            # 1.6 §4.2, 2.0.1 B02/B03: Pending/Rejected -> boot again after `interval`, on a
            # new connection
            self.client.close()
            raise RescheduleTask()
        self.boot_interval = reply["interval"]

    def status(self, connector: int, status: str) -> None:
        self.client.call("StatusNotification", messages.status_notification(connector, status))


class IdleCharger(OcppUser):
    """Boots, reports Available, then only sends Heartbeats."""

    weight = 6

    def wait_time(self) -> float:
        return self.options.heartbeat_interval

    @task
    @recorded
    def heartbeat(self) -> None:
        self.online()
        self.client.call("Heartbeat")


class ChargingCharger(OcppUser):
    """Boots, then runs transactions: authorize, start, MeterValues every N s, stop."""

    weight = 3

    def wait_time(self) -> float:
        return self.options.meter_interval

    @task
    @recorded
    def charge(self) -> None:
        self.online()
        options, call = self.options, self.client.call
        self.status(1, "Preparing")
        call("Authorize", messages.authorize(options.id_tag))
        energy = 0
        reply = call("StartTransaction", messages.start_transaction(1, options.id_tag, energy))
        transaction_id = reply["transactionId"]
        self.status(1, "Charging")
        power = 11000.0
        for _ in range(options.meter_values):
            gevent.sleep(options.meter_interval)
            energy += int(power * options.meter_interval / 3600)
            call("MeterValues", messages.meter_values(1, transaction_id, energy, power))
        call("StopTransaction", messages.stop_transaction(transaction_id, options.id_tag, energy))
        self.status(1, "Finishing")
        self.status(1, "Available")


class BootStormCharger(OcppUser):
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
