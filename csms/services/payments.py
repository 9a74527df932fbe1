"""Payment gateways for wallet top-ups (seeds/001 §7.3: order, payment, signed webhook, credit).

    gateway = LocalGateway(secret=b"...")                 # pays at once: tests, demos, offline
    order = gateway.create_order("U1", Decimal("500.00"), "INR")
    body, signature = gateway.webhook_for(order)          # what a provider would POST to us
    paid = gateway.verify_webhook(body, signature)        # -> PaymentOrder, or PaymentError

A real provider (Razorpay...) implements the same `PaymentGateway` protocol: `create_order` then
returns status `created` and the money arrives later through `verify_webhook`. The wallet is
credited once per order id whichever path reports it (the ledger's reference is unique).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

CREATED = "created"
PAID = "paid"


class PaymentError(Exception):
    """A webhook that is not authentic or not understood: credit nothing."""


class BadSignature(PaymentError):
    """The webhook's signature does not match its body: not from the provider."""


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    id: str
    user_id: str
    amount: Decimal
    currency: str
    status: str  # created | paid


class PaymentGateway(Protocol):
    """What the wallet needs from a payment provider."""

    def create_order(self, user_id: str, amount: Decimal, currency: str) -> PaymentOrder:
        """Open an order; status `paid` means the money is already captured."""
        ...

    def verify_webhook(self, body: bytes, signature: str) -> PaymentOrder:
        """The paid order a provider's webhook reports; `PaymentError` when not authentic."""
        ...


def sign(secret: bytes, body: bytes) -> str:
    """HMAC-SHA256 hex of the raw body: the usual webhook signature scheme."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


class LocalGateway:
    """An in-process provider that captures every order at once (no network, no real money)."""

    def __init__(self, secret: bytes | None = None, *, auto_capture: bool = True) -> None:
        self.secret = secret or secrets.token_bytes(32)
        self.auto_capture = auto_capture

    def create_order(self, user_id: str, amount: Decimal, currency: str) -> PaymentOrder:
        status = PAID if self.auto_capture else CREATED
        return PaymentOrder(f"order_{secrets.token_hex(8)}", user_id, amount, currency, status)

    def webhook_for(self, order: PaymentOrder) -> tuple[bytes, str]:
        """The signed `payment.captured` body a provider would send for `order`."""
        body = json.dumps(
            {
                "event": "payment.captured",
                "order_id": order.id,
                "user_id": order.user_id,
                "amount": str(order.amount),
                "currency": order.currency,
            }
        ).encode()
        return body, sign(self.secret, body)

    def verify_webhook(self, body: bytes, signature: str) -> PaymentOrder:
        if not hmac.compare_digest(sign(self.secret, body), signature or ""):
            raise BadSignature("bad webhook signature")
        try:
            event = json.loads(body, parse_float=Decimal)
            if event.get("event") != "payment.captured":
                raise PaymentError(f"unexpected event {event.get('event')!r}")
            amount = Decimal(str(event["amount"]))
            return PaymentOrder(
                str(event["order_id"]), str(event["user_id"]), amount, str(event["currency"]), PAID
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise PaymentError(f"malformed webhook: {error}") from error
