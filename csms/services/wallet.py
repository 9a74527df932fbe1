"""Wallet operations (seeds/001 §7.3): amounts checked here, money moved by the store.

Amounts come in as text or integers (never floats: the API parses JSON numbers as Decimal) and
must have at most 2 decimal places: a top-up of 10.005 is refused, not rounded behind the
user's back. Deductions happen in `billing_service`, never here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from csms.services.payments import PAID, PaymentGateway, PaymentOrder
from csms.store.base import Store, WalletTransaction

#: refuse absurd top-ups (a typo, or a test fuzzer): the provider would refuse them anyway
MAX_TOP_UP = Decimal("1000000.00")


def parse_amount(value: object, *, maximum: Decimal = MAX_TOP_UP) -> Decimal:
    """A positive money amount with at most 2 places; ValueError says what is wrong."""
    if isinstance(value, bool | float):
        raise ValueError("must be a decimal string or number, not a float")
    try:
        amount = Decimal(value) if isinstance(value, int | str | Decimal) else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        raise ValueError(f"not a decimal amount: {value!r}")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("at most 2 decimal places")
    if amount <= 0:
        raise ValueError("must be positive")
    if amount > maximum:
        raise ValueError(f"must not exceed {maximum}")
    return amount.quantize(Decimal("0.01"))


def top_up(
    store: Store, gateway: PaymentGateway, user_id: str, amount: Decimal
) -> tuple[PaymentOrder, WalletTransaction | None]:
    """Open a payment order; credit the wallet now when the gateway captured it at once,
    else later from the provider's webhook (`credit_paid_order`)."""
    wallet = store.get_wallet(user_id)
    if wallet is None:
        raise LookupError(f"user {user_id!r} has no wallet")
    order = gateway.create_order(user_id, amount, wallet["currency"])
    entry = credit_paid_order(store, order) if order.status == PAID else None
    return order, entry


def credit_paid_order(store: Store, order: PaymentOrder) -> WalletTransaction:
    """TOP_UP once per order id (a replayed webhook returns the first credit)."""
    wallet = store.get_wallet(order.user_id)
    if wallet is None:
        raise LookupError(f"user {order.user_id!r} has no wallet")
    if wallet["currency"] != order.currency:
        raise ValueError(f"order in {order.currency}, wallet in {wallet['currency']}")
    return store.wallet_credit(order.user_id, order.amount, reference=order.id)
