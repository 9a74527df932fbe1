"""Features that receive a narrow context (issue 16 point 7): each converted feature runs on a
small object holding only what its Protocol names, no `ChargePoint` at all."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from sim.connector import ConnectorStatus
from sim.features import lock
from sim.features.transactions import Port, Transaction
from sim.hardware import Cable, Hardware


class LockOnly:
    """A `lock.LockContext`: connectors, spawn, and the transaction flow's stop and settle."""

    def __init__(self, hardware: Hardware) -> None:
        self.ports = [Port(1, hardware)]
        self.spawned: list[str] = []
        self.done: list[tuple[str, int, str | None]] = []

    def port(self, connector: int) -> Port:
        return self.ports[connector - 1]

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        self.spawned.append(coro.__qualname__)
        coro.close()  # what it would do is recorded by the coroutine functions below
        return None  # type: ignore[return-value]

    async def stop_transaction(self, port: Port, reason: str, id_tag: str | None = None) -> None:
        self.done.append(("stop", port.id, reason))

    async def settle(self, port: Port) -> None:
        self.done.append(("settle", port.id, None))


def test_unlock_connector_runs_on_its_context_alone():
    """UnlockConnector (1.6 §5.18) on a LockContext: an unknown connector is NotSupported; a
    running transaction is stopped (UnlockCommand) in the background and the lock opens now."""
    ctx = LockOnly(Hardware(connectors=1, cable=Cable.SOCKET))
    assert lock.unlock_connector(ctx, {"connectorId": 2}) == {"status": "NotSupported"}
    port = ctx.ports[0]
    port.tx = Transaction(1, "TAG", 1, 0, datetime.now(UTC))
    port.lock.engage()
    assert lock.unlock_connector(ctx, {"connectorId": 1}) == {"status": "Unlocked"}
    assert not port.lock.locked
    assert ctx.spawned == ["LockOnly.stop_transaction"]


def test_a_fixed_cable_has_no_lock_to_open():
    """A fixed cable answers NotSupported (1.6 §7.46) and spawns nothing."""
    ctx = LockOnly(Hardware(connectors=1, cable=Cable.FIXED))
    assert lock.unlock_connector(ctx, {"connectorId": 1}) == {"status": "NotSupported"}
    assert ctx.spawned == [] and ctx.ports[0].status is ConnectorStatus.available


async def test_trigger_message_answers_from_its_context_alone():
    """TriggerMessage (1.6 §5.17) decides its answer from the configuration and connectors it
    is given: a message of a profile not supported is NotImplemented, a connector it does not
    have Rejected, and only an Accepted one is sent, after the reply."""
    from types import SimpleNamespace

    from sim.features import trigger

    tasks: list[asyncio.Task] = []
    sent: list[tuple[str, dict]] = []

    async def call(action: str, payload: dict) -> dict:
        sent.append((action, payload))
        return {"currentTime": "2026-01-01T00:00:00Z"}

    ctx = SimpleNamespace(config=SimpleNamespace(supported_feature_profiles=["Core"]),
                          ports=[Port(1, Hardware())], call=call,
                          spawn=lambda coro: tasks.append(asyncio.ensure_future(coro)))
    answer = trigger.trigger_message
    assert answer(ctx, {"requestedMessage": "DiagnosticsStatusNotification"}) \
        == {"status": "NotImplemented"}
    assert answer(ctx, {"requestedMessage": "StatusNotification", "connectorId": 2}) \
        == {"status": "Rejected"}
    assert answer(ctx, {"requestedMessage": "Heartbeat"}) == {"status": "Accepted"}
    assert sent == []  # the reply goes first
    await asyncio.gather(*tasks)
    assert sent == [("Heartbeat", {})]


def test_the_connection_lifecycle_is_one_link():
    """A `Link` says online only with a session and an Accepted boot, and the fleet's pacing
    callback fires once per start, whoever ends the first attempt (`online.attempted`)."""
    from sim.features import online
    from sim.features.connection import Link

    link = Link({})
    fired: list[int] = []
    link.on_attempt = lambda: fired.append(1)
    assert not link.online and not link.accepted
    link.registration = "Accepted"
    assert link.accepted and not link.online  # no session: offline, booted earlier
    link.session = object()  # type: ignore[assignment]
    assert link.online
    online.attempted(link)
    online.attempted(link)
    assert fired == [1] and link.on_attempt is None


def test_boot_payload_needs_only_configuration_and_hardware():
    """BootNotification.req (1.6 §6.3) from a `BootSource`: empty fields left out, the meter
    from the hardware unless configured."""
    from types import SimpleNamespace

    from sim.features import online

    config = SimpleNamespace(
        charge_point_vendor="V", charge_point_model="M", charge_box_serial_number=None,
        charge_point_serial_number="S", firmware_version="1.0", iccid="", imsi=None,
        meter_type=None, meter_serial_number=None,
    )
    hardware = SimpleNamespace(meter_type="AC meter", meter_serial="MS1")
    payload = online.boot_payload(SimpleNamespace(config=config, hardware=hardware))
    assert payload == {"chargePointVendor": "V", "chargePointModel": "M",
                       "chargePointSerialNumber": "S", "firmwareVersion": "1.0",
                       "meterType": "AC meter", "meterSerialNumber": "MS1"}
