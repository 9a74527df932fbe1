"""What a feature receives: narrow views of a charge point (issue 16 point 7).

A feature function takes the context it uses, not the whole `ChargePoint`: each converted
feature module declares a small Protocol (`fault_hooks.FaultContext`, `lock.LockContext`...)
built from the pieces below, so its signature says what it reads and mypy refuses a use of
anything else. `ChargePoint` satisfies them structurally: a fleet of 10 000 charge points still
shares the module-level functions and holds no context object per feature, and a test may pass
a small object of its own instead of a charge point.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import asyncio

    from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

    from chargebench.clock import Clock
    from sim.config import ChargePointConfig
    from sim.connector import Connector
    from sim.features.transactions import Port
    from sim.hardware import Hardware

__all__ = ["Clocked", "Configured", "Connectors", "Equipped", "Sender", "Spawner", "StatusSetter"]


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

    async def set_status(self, port: Port | Connector, status: ChargePointStatus,
                         error_code: ChargePointErrorCode = ...) -> None: ...


class Sender(Protocol):
    """Our own non-transaction CALLs: `call()` now, raising ConnectionLost when offline."""

    @property
    def online(self) -> bool: ...

    async def call(self, action: str, payload: dict) -> dict: ...
