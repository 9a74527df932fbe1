"""The OCPP-J session core (sans-I/O) and its asyncio adapter, shared by every part.

Importing this package loads no I/O library: `Session`, `connect` and `serve` (the asyncio
adapter on websockets, `chargebench.ocppj.adapter`) are imported on first use, so the gevent
layer (loadtest.transport) and sans-I/O users never pull in websockets or asyncio machinery.
"""

from typing import TYPE_CHECKING, Any

from chargebench.ocppj.core import OcppSession, State
from chargebench.ocppj.errors import (
    CallErrorReply,
    CallFailed,
    CallTimeout,
    ConnectionLost,
    InvalidReply,
    LocalProtocolError,
    NoReply,
    OcppCallError,
    OcppJError,
    RemoteProtocolError,
)
from chargebench.ocppj.faults import Fault
from chargebench.ocppj.pair import SessionPair
from chargebench.ocppj.registration import BootGate, Registration, boot_gate
from chargebench.ocppj.versions import VERSIONS, OcppVersion, Role, version_for

if TYPE_CHECKING:
    from chargebench.ocppj.adapter import Session, connect, serve

_ADAPTER = frozenset({"Session", "connect", "serve"})


def __getattr__(name: str) -> Any:
    if name in _ADAPTER:
        from chargebench.ocppj import adapter

        return getattr(adapter, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "VERSIONS",
    "BootGate",
    "CallErrorReply",
    "CallFailed",
    "CallTimeout",
    "ConnectionLost",
    "Fault",
    "InvalidReply",
    "LocalProtocolError",
    "NoReply",
    "OcppCallError",
    "OcppJError",
    "OcppSession",
    "OcppVersion",
    "Registration",
    "RemoteProtocolError",
    "Role",
    "Session",
    "SessionPair",
    "State",
    "boot_gate",
    "connect",
    "serve",
    "version_for",
]
