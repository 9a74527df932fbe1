"""What the business API needs from a running CSMS, gathered in one object.

`Context.of(csms)` takes it from a `CentralSystem` (store, connections, protocol clock, admin
token, `send`, `execute` with bookkeeping, remote start timeout); the billing service and the
payment gateway are the CSMS's own when it has them (`csms.billing`, `csms.payments`), else
created here, so the API also runs before those are wired.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from chargebench.clock import Clock
from chargebench.ocppj import CallTimeout
from csms import commands
from csms.api.jsonio import ApiError
from csms.commands import NotConnected
from csms.outage import Refusals
from csms.services import remote
from csms.services.billing_service import BillingService
from csms.services.payments import LocalGateway, PaymentGateway
from csms.services.remote import Send
from csms.store.base import Store, User
from csms.store.errors import StoreUnavailable

if TYPE_CHECKING:
    from csms.api.spec import Call

T = TypeVar("T")
#: `commands.execute` bound to one CSMS: (cp_id, action, payload, timeout=...) -> CommandResult
Execute = Callable[..., Awaitable[commands.CommandResult]]


@dataclass(slots=True)
class Context:
    store: Store
    registry: Any  # csms.registry.Registry: cp_id -> live connection
    clock: Clock
    admin_token: str | None
    send: Send
    billing: BillingService
    payments: PaymentGateway
    #: flush buffered trace records before reading the message log (None: nothing buffered)
    flush_log: Callable[[], Awaitable[None]] | None = None
    #: seconds a remote start's pending record waits for its StartTransaction
    remote_start_timeout: float = remote.DEFAULT_TIMEOUT
    #: a CSMS-initiated action with its bookkeeping (None: no CSMS to send through)
    execute: Execute | None = None
    #: where requests refused while the store is unavailable are logged (csms.outage)
    refusals: Refusals | None = None

    @classmethod
    def of(cls, csms: Any) -> Context:
        billing = getattr(csms, "billing", None) or BillingService(csms.store, csms.clock)
        payments = getattr(csms, "payments", None) or LocalGateway()
        trace = getattr(csms, "trace", None)
        return cls(
            csms.store,
            getattr(csms, "fleet", csms.connections),  # every worker's (csms.cluster)
            csms.clock,
            csms.config.admin_token,
            csms.send,
            billing,
            payments,
            getattr(trace, "flush", None),
            csms.config.remote_start_timeout,
            functools.partial(commands.execute, csms),
            getattr(csms, "refusals", None),
        )

    async def db(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A store call off the event loop (an fsync never stalls the OCPP connections)."""
        return await asyncio.to_thread(method, *args, **kwargs)

    async def user_in_scope(self, call: Call, user_id: str) -> User:
        """The user `user_id` if the caller may see them (001 §7.2), else 403 / 404."""
        if call.principal is None or not call.principal.may_see(user_id):
            raise ApiError(403, "a USER token sees only its own data")
        user = await self.db(self.store.get_user, user_id)
        if user is None:
            raise ApiError(404, f"unknown user {user_id!r}")
        return user

    async def relay(self, command: Awaitable[T]) -> T:
        """Await a command to a charger, its failures as HTTP answers (those of the actions
        API): a refused check keeps its status, not connected 409, no reply in time 504,
        anything else the charger did (CALLERROR, invalid reply) 502."""
        try:
            return await command
        except remote.Refused as refused:
            raise ApiError(refused.status, str(refused)) from None
        except NotConnected as error:
            raise ApiError(409, str(error)) from None
        except CallTimeout as error:
            raise ApiError(504, str(error)) from None
        except StoreUnavailable:  # ours, not the charger's: 503 (csms.api.spec)
            raise
        except Exception as error:
            raise ApiError(502, f"{type(error).__name__}: {error}") from None
