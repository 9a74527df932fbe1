"""The OCPP-J session core (sans-I/O) and its asyncio adapter, shared by every part."""

from chargebench.ocppj.adapter import Session, connect, serve
from chargebench.ocppj.core import OcppSession
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
from chargebench.ocppj.versions import OCPP16, OcppVersion, Role

__all__ = [
    "OCPP16",
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
    "RemoteProtocolError",
    "Role",
    "Session",
    "SessionPair",
    "connect",
    "serve",
]
