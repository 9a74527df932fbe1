"""Billing arithmetic: the worked examples of seeds/001 and the rounding edges."""

from __future__ import annotations

from decimal import Decimal

import pytest

from csms.services.billing import METER_WENT_BACKWARDS, compute_bill, money, pick_rate


@pytest.mark.parametrize(
    ("start", "stop", "rate", "amount"),
    [
        (0, 8500, "10", "85.00"),       # 001 §4.1: 8.5 kWh at ₹10
        (250, 18750, "12", "222.00"),   # 001 §5.4: 18,500 Wh at ₹12
        (100, 5100, "12", "60.00"),     # 5,100 − 100 Wh at ₹12
        (0, 1, "5", "0.01"),            # 0.005 rounds half-up to 0.01
        (0, 1, "4.99", "0.00"),         # 0.00499 rounds down
        (0, 1234, "10.50", "12.96"),    # 12.957 -> 12.96
        (0, 0, "10", "0.00"),
    ],
)
def test_worked_examples_and_rounding(start, stop, rate, amount):
    """Energy × rate is rounded half-up to paise, exactly, with Decimal."""
    bill = compute_bill(start, stop, money(rate))
    assert bill.amount == Decimal(amount)
    assert bill.energy_wh == stop - start
    assert bill.flag is None


def test_meter_backwards_flagged_not_negative():
    """A meterStop below meterStart is flagged and billed nothing."""
    bill = compute_bill(5000, 4000, money("10"))
    assert bill.flag == METER_WENT_BACKWARDS
    assert bill.amount == Decimal("0.00") and bill.energy_wh == 0


def test_money_refuses_float_and_garbage():
    """Money never goes through a float; bad strings are a ValueError."""
    with pytest.raises(TypeError):
        money(10.5)
    with pytest.raises(ValueError):
        money("ten")
    with pytest.raises(ValueError):
        money("NaN")
    assert money("10.505") == Decimal("10.51")


def test_rate_fallback():
    """The charger's own tariff wins; otherwise the global one; otherwise an error."""
    assert pick_rate(Decimal("15"), Decimal("10")) == Decimal("15")
    assert pick_rate(None, Decimal("10")) == Decimal("10")
    with pytest.raises(LookupError):
        pick_rate(None, None)
