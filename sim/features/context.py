"""What a feature receives: narrow views of a charge point (issue 16 point 7).

A feature function takes the context it uses, not the whole `ChargePoint`: each converted
feature module declares a small Protocol (`fault_hooks.FaultContext`, `lock.LockContext`...)
built from the pieces below, so its signature says what it reads and mypy refuses a use of
anything else. `ChargePoint` satisfies them structurally: a fleet of 10 000 charge points still
shares the module-level functions and holds no context object per feature, and a test may pass
a small object of its own instead of a charge point.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import asyncio

    from chargebench.clock import Clock
    from sim.config import ChargePointConfig
    from sim.connector import Connector, ConnectorError, ConnectorStatus
    from sim.features.transactions import Port
    from sim.hardware import Hardware
    from sim.v16.smart_charging import SmartCharging

__all__ = [
    "Clocked", "Configured", "Connectors", "Equipped", "LimitsContext", "Sender", "Spawner",
    "StatusSetter",
]


class Clocked(Protocol):
    """The simulated clock (`now()`, `sleep()`, `call_later()`)."""

    @property
    def clock(self) -> Clock: ...


class Configured(Protocol):
    """The charge point's configuration keys (libocpp's config file)."""

    @property
    def config(self) -> ChargePointConfig: ...


class Equipped(Protocol):
    """The hardware: connectors, cable, meter rating and identity."""

    @property
    def hardware(self) -> Hardware: ...


class Spawner(Protocol):
    """Background work that `ChargePoint.stop()` cancels and whose failure is logged once."""

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task: ...


class Connectors(Protocol):
    """The connectors (1-based `port(n)`; `ports` in order)."""

    @property
    def ports(self) -> list[Port]: ...

    def port(self, connector: int) -> Port: ...


class StatusSetter(Protocol):
    """Moves a connector through the §4.9 table and tells the CSMS (StatusNotification)."""

    async def set_status(self, port: Port | Connector, status: ConnectorStatus,
                         error_code: ConnectorError = ...) -> None: ...


class Sender(Protocol):
    """Our own non-transaction CALLs: `call()` now, raising ConnectionLost when offline."""

    @property
    def online(self) -> bool: ...

    async def call(self, action: str, payload: dict) -> dict: ...


# Contexts shared by more than one module (the transaction flow calls smart charging, which
# calls back into the transaction flow: defined here, neither module imports the other's)


class SmartFeatures(Protocol):
    """The charge point's profile store (built on first use) and its timers."""

    @property
    def smart(self) -> SmartCharging: ...

    def built(self, name: str) -> bool: ...

    def schedule(self, name: str, when: datetime | None, action: Callable[[], Any]) -> None: ...


class TransactionIds(Protocol):
    """local transaction id -> the CSMS's transactionId, once StartTransaction.conf came."""

    @property
    def tx_ids(self) -> Mapping[int, int]: ...


class LimitsContext(Clocked, Configured, Connectors, Spawner, StatusSetter, Protocol):
    """What smart charging on a live charge point uses: the configuration (is SmartCharging
    supported), the connectors and their meters (advanced on the clock, status after a limit
    change), the profile store and its timer, and the CSMS's transaction ids."""

    @property
    def features(self) -> SmartFeatures: ...

    @property
    def queue(self) -> TransactionIds: ...
