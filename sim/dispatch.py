"""Which handler answers a CSMS CALL: the table of the version the connection speaks.

Each OCPP version the simulator speaks has its module (`sim.v16.handlers`, `sim.v201.handlers`)
with a `VERSION`, a `HANDLERS` table and `session_profiles(config)`. A charge point offers the
subprotocols of the versions its configuration speaks in its handshake (`subprotocols()`: a 1.6
key file speaks 1.6, a 2.0.1 device model 2.0.1), and the connection gets the table of the one
agreed (`VERSIONS[subprotocol]`, `HandlerTable(cp, version)`), with the
version-neutral rules in front of every handler: the registration gate (the core's `BootGate`),
the value bounds, the fault plan, and an InternalError for a handler's own bug.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from chargebench.ocppj import Fault, NoReply, OcppCallError, OcppVersion, Role
from chargebench.ocppj.registration import boot_gate
from sim.features import bounds, fault_hooks
from sim.features.fault_hooks import FaultContext

if TYPE_CHECKING:
    from sim.chargepoint import ChargePoint

__all__ = [
    "Handler",
    "HandlerTable",
    "Host",
    "feature_method",
    "module_for",
    "subprotocols",
    "versions",
]

log = logging.getLogger(__name__)

#: handler(station, request payload) -> response payload (or an awaitable of it); each version's
#: module types its own station (1.6 `ChargePoint`, 2.0.1 `ChargingStation`)
Handler = Callable[[Any, dict], Any]


class Host(FaultContext, Protocol):
    """What the rules in front of every handler read of a charge point or charging station."""

    @property
    def id(self) -> str: ...

    @property
    def registration(self) -> str | None: ...


@functools.cache
def _modules() -> dict[OcppVersion, ModuleType]:
    from sim.v16 import handlers as v16
    from sim.v201 import handlers as v201

    # 1.6 first: `ChargePoint` (the 1.6 key-file charge point) takes `versions()[0]` before a
    # handshake decided
    return {v16.VERSION: v16, v201.VERSION: v201}


def module_for(version: OcppVersion) -> ModuleType:
    """The handler module of `version` (KeyError: a version this simulator does not speak)."""
    return _modules()[version]


def versions() -> list[OcppVersion]:
    """The versions this simulator has handlers for, most preferred first."""
    return list(_modules())


def subprotocols(speaks: Iterable[OcppVersion] | None = None) -> list[str]:
    """What a charge point offers in its handshake (OCPP-J 1.6 §3.2, 2.0.1 §3.1.2), most
    preferred first (OCPP-J 2.0.1 §3.1.3): the versions its configuration `speaks` that have a
    handler module; None: the first version only, which `ChargePoint` (a libocpp 1.6 key file)
    speaks. A key file never offers 2.0.1: the CSMS would pick it, and the charge point has no
    2.0.1 configuration to run it with."""
    spoken = _modules()
    if speaks is None:
        return [next(iter(spoken)).subprotocol]
    return [version.subprotocol for version in speaks if version in spoken]


def feature_method(feature: str, method: str) -> Handler:
    """A shared handler calling `cp.features.<feature>.<method>(payload)`: the feature object
    is built on first use, so a charge point that never sees its CALLs never holds it."""

    def handler(cp: ChargePoint, payload: dict) -> Any:  # 1.6 only: `cp.features`
        return getattr(getattr(cp.features, feature), method)(payload)

    handler.__name__ = f"{feature}_{method}"
    return handler


class HandlerTable(Mapping[str, Callable[[dict], Any]]):
    """action -> handler(payload) of one charge point speaking `version`, bound on lookup.

    A fleet of 10 000 charge points shares the version's module-level table instead of holding
    a few dozen closures each.
    """

    __slots__ = ("_cp", "_table", "version")

    def __init__(self, cp: Host, version: OcppVersion) -> None:
        self._cp = cp
        self.version = version
        self._table: Mapping[str, Handler] = module_for(version).HANDLERS

    def __getitem__(self, action: str) -> Callable[[dict], Any]:
        return functools.partial(_guarded, self._cp, self.version, action, self._table[action])

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


def _guarded(cp: Host, version: OcppVersion, action: str, handler: Handler,
             payload: dict) -> Any:
    """Apply the registration status (1.6 §4.2), then the fault plan, then run the handler.

    "While Rejected, the Charge Point SHALL NOT respond to any Central System initiated
    message": no CALLRESULT and no CALLERROR, the CSMS's CALL times out. While Pending,
    RemoteStartTransaction and RemoteStopTransaction "are not allowed" (the version's code).
    """
    # the rule and its CALLERROR code are the core's (`BootGate`, 1.6 §4.2)
    boot_gate(version, Role.CHARGE_POINT).check(action, cp.registration)
    bounds.check(payload)  # values no charge point holds: PropertyConstraintViolation
    try:
        reply = fault_hooks.inbound(cp, action, functools.partial(handler, cp, payload))
    except (OcppCallError, NoReply):
        raise
    except Exception as error:
        raise _own_bug(cp, version, action, error) from None
    if isinstance(reply, Awaitable):
        return _contained(cp, version, action, reply)
    return reply


async def _contained(cp: Host, version: OcppVersion, action: str, pending: Awaitable
                     ) -> Any:
    try:
        return await pending
    except (OcppCallError, NoReply):
        raise
    except Exception as error:
        raise _own_bug(cp, version, action, error) from None


def _own_bug(cp: Host, version: OcppVersion, action: str, error: Exception
             ) -> OcppCallError:
    """A handler failed: our bug, logged here with its traceback; the CSMS gets InternalError
    (OCPP-J 1.6 §4.2.3) without exception text or stack detail."""
    log.error("%s: handler for %s failed", cp.id, action, exc_info=error)
    return OcppCallError(version.code_for(Fault.HANDLER_FAILED), f"{action} could not be processed")
