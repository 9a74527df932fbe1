"""JSON in and out of the business API without floats: money is Decimal in, string out.

Bodies are parsed with `parse_float=Decimal` (and NaN/Infinity refused), responses serialise
Decimal as its exact string ("415.00"), so a rupee amount never passes through binary floating
point on its way between the client and the store.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.responses import JSONResponse, Response


class ApiError(Exception):
    """An HTTP error with a JSON body `{"error": ..., "field"?: ...}`; raised by endpoints."""

    def __init__(self, status: int, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field

    def response(self, *, challenge: str = "Bearer") -> Response:
        """The JSON answer; a 401 carries `WWW-Authenticate: <challenge>` (RFC 9110 §15.5.2)."""
        body: dict[str, Any] = {"error": str(self)}
        if self.field is not None:
            body["field"] = self.field
        headers = {"WWW-Authenticate": challenge} if self.status == 401 else None
        return DecimalJSONResponse(body, status_code=self.status, headers=headers)


def to_jsonable(value: Any) -> Any:
    """`json.dumps` default: Decimal -> exact string, datetime -> ISO-8601, sets -> lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(content: Any) -> str:
    return json.dumps(content, default=to_jsonable, ensure_ascii=False, separators=(",", ":"))


class DecimalJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _decimal(text: str) -> Decimal | int:
    """A JSON number with a fraction or exponent: exact, and an integer when it is one (JSON
    Schema 2020-12: `1.0` is an integer)."""
    value = Decimal(text)
    if value.adjusted() < 64 and value == value.to_integral_value():  # 1E+999999 stays
        return int(value)
    return value


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is too large for a number")
    return value


def loads(body: bytes, *, decimal: bool = True) -> Any:
    """Parse a request body; numbers with a fraction become Decimal, integral ones int
    (`decimal=False`: float, as written, for OCPP payloads relayed to a charger). ApiError 422
    if not JSON, too deep to parse, or carrying a lone UTF-16 surrogate (`"\\ud800"` is valid
    JSON text but no UTF-8 string: it could be neither stored nor sent to a charger)."""
    try:
        value = json.loads(body, parse_float=_decimal if decimal else _float,
                           parse_constant=_no_constants)  # fmt: skip
        dumps(value).encode("utf-8")
    except RecursionError:
        raise ApiError(422, "body is nested too deeply", field="body") from None
    except UnicodeEncodeError:
        raise ApiError(422, "body contains a lone UTF-16 surrogate", field="body") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(422, f"body is not JSON: {error}", field="body") from None
    return value
