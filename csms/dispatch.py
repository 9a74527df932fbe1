"""Which handler answers a charger's CALL: the table of the version its connection speaks.

Each OCPP version has its handler module (`csms.v16.handlers`, `csms.v201.handlers`) with a
`VERSION` and a `HANDLERS` table; `bind()` gives a connection's `Session` the table of the version
agreed in its handshake (`OcppSession.version`), with the core's registration gate in front.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from chargebench.ocppj import Fault, OcppCallError, OcppVersion, Role
from chargebench.ocppj.registration import boot_gate
from csms.outage import CALL_DESCRIPTION
from csms.store.errors import StoreUnavailable

if TYPE_CHECKING:
    from csms.central import CentralSystem
    from csms.registry import ChargerConnection

Handler = Callable[["CentralSystem", "ChargerConnection", dict], Awaitable[dict]]

#: `ChargerConnection.extra` key: the set of actions the CSMS asked the charger to send (an
#: accepted TriggerMessage, `csms.commands.execute`), let through the registration gate while
#: Pending (2.0.1 B01.FR.10, B02.FR.09); emptied by the next BootNotification
ASKED = "asked"


def registrar(table: dict[str, Handler]) -> Callable[[str], Callable[[Handler], Handler]]:
    """The `@handles("Action")` decorator of a version module, filling its `HANDLERS`."""

    def handles(action: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            table[action] = handler
            return handler

        return register

    return handles


def _tables() -> dict[OcppVersion, Mapping[str, Handler]]:
    from csms.v16 import handlers as v16
    from csms.v201 import handlers as v201

    # in order of preference where a client states none (OCPP-J 2.0.1 §3.1.3)
    return {v201.VERSION: v201.HANDLERS, v16.VERSION: v16.HANDLERS}


@functools.cache
def table_for(version: OcppVersion) -> Mapping[str, Handler]:
    """The handler table of `version` (KeyError: a version this CSMS does not speak)."""
    return _tables()[version]


def versions() -> list[OcppVersion]:
    """The versions this CSMS has handlers for."""
    return list(_tables())


def bind(csms: CentralSystem, conn: ChargerConnection) -> BoundHandlers:
    """The handler table for one connection's `Session`."""
    return BoundHandlers(csms, conn)


class BoundHandlers(Mapping[str, Callable[[dict], Any]]):
    """The version's handler table as one connection sees them, each bound when its CALL arrives.

    A dict of bound partials per connection held about 4 kB per charger for ~17 actions, most
    never called; at 10 000 chargers that is a tenth of the 40 kB budget (loadtest.bench_fleet).
    """

    __slots__ = ("conn", "csms", "table")

    def __init__(self, csms: CentralSystem, conn: ChargerConnection) -> None:
        self.csms = csms
        self.conn = conn
        self.table = table_for(conn.session.core.version)

    def __getitem__(self, action: str) -> Callable[[dict], Any]:
        return functools.partial(_guarded, action, self.table[action], self.csms, self.conn)

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)


async def _guarded(
    action: str, handler: Handler, csms: CentralSystem, conn: ChargerConnection, payload: dict
) -> dict:
    # OCPP-J 1.6 errata §3.10, 2.0.1 B01.FR.10: CALLs other than BootNotification before the
    # charge point is accepted are refused; the rule and its code are the core's (`BootGate`);
    # a Pending 2.0.1 station may send what a TriggerMessage asked for (`ASKED`, B02.FR.09).
    boot_gate(conn.session.core.version, Role.CENTRAL_SYSTEM).check(
        action, conn.registration, conn.extra.get(ASKED, ()))
    try:
        return await handler(csms, conn, payload)
    except StoreUnavailable as error:  # nothing acknowledged; the charger retries (csms.outage)
        csms.refusals.refused(f"{conn.cp_id}: {action}", error)
        code = conn.session.core.version.code_for(Fault.HANDLER_FAILED)  # InternalError
        raise OcppCallError(code, CALL_DESCRIPTION) from None
