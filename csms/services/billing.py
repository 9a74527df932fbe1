"""Billing arithmetic (seeds/001 §4.1, §5.4), sans-I/O: Decimal in, Decimal out, no float ever.

Energy = meterStop − meterStart in Wh (both cumulative meters and meters reset per transaction
report their own start value, so the difference is right for both); amount = kWh × rate, rounded
half-up to 2 places (paise). A meterStop below meterStart is flagged and never billed negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENTS = Decimal("0.01")
WH_PER_KWH = Decimal(1000)
DEFAULT_CURRENCY = "INR"

#: Flag set when the meter went backwards; the transaction goes to review, not to the wallet.
METER_WENT_BACKWARDS = "METER_STOP_BELOW_START"


def money(value: str | int | Decimal) -> Decimal:
    """A money or rate value as Decimal with 2 places; floats are refused on purpose."""
    if isinstance(value, float):
        raise TypeError("money never goes through a float: pass a str, int or Decimal")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError, TypeError) as error:
        raise ValueError(f"not a decimal amount: {value!r}") from error
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return amount.quantize(CENTS, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Bill:
    energy_wh: int
    rate: Decimal
    amount: Decimal
    currency: str
    flag: str | None = None

    @property
    def energy_kwh(self) -> Decimal:
        return Decimal(self.energy_wh) / WH_PER_KWH


def compute_bill(
    meter_start_wh: int, meter_stop_wh: int, rate: Decimal, currency: str = DEFAULT_CURRENCY
) -> Bill:
    """The bill of one transaction; `flag` is set (and amount 0) when the meter went backwards."""
    energy = meter_stop_wh - meter_start_wh
    if energy < 0:
        return Bill(0, rate, Decimal("0.00"), currency, METER_WENT_BACKWARDS)
    amount = (Decimal(energy) / WH_PER_KWH * rate).quantize(CENTS, rounding=ROUND_HALF_UP)
    return Bill(energy, rate, amount, currency)


def pick_rate(charger_rate: Decimal | None, global_rate: Decimal | None) -> Decimal:
    """Charger-specific tariff, else the global fallback (seeds/001 §5.4); none is an error."""
    if charger_rate is not None:
        return charger_rate
    if global_rate is not None:
        return global_rate
    raise LookupError("no tariff for this charger and no global tariff")
