"""OCPP 2.0.1 IdToken types, as the `ocpp` package's schema lists them (IdTokenEnumType).

In 2.0.1 an IdToken is a value and a type (C01): an RFID card "04A2" (ISO14443) and a contract
"04A2" (eMAID) are two tokens. An id tag the operator registered with a type matches only a
token of that type; one registered without a type (every 1.6 idTag) matches any.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chargebench.ocppj.v201 import OCPP201

__all__ = ["ID_TOKEN_TYPES", "type_matches"]

#: IdTokenEnumType, from the schema (one source: the `ocpp` package)
ID_TOKEN_TYPES: tuple[str, ...] = tuple(
    json.loads(OCPP201.schema_text("Authorize", False))["definitions"]["IdTokenEnumType"]["enum"]
)


def type_matches(record: Mapping[str, Any] | None, token_type: str) -> bool:
    """Whether a stored id tag (None: unknown) is the presented token's type."""
    return record is None or record.get("token_type") in (None, token_type)
