"""Payload validation: one compiled validator per schema, run inline on the hot path.

jsonschema-rs checks every keyword of the draft-04 schemas, `date-time` included, at ~3 µs for a
10-value MeterValues (plain jsonschema: ~500 µs). The slow path (finding *which* keyword failed)
runs only for invalid payloads.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs

from chargebench.ocppj.errors import RemoteProtocolError
from chargebench.ocppj.faults import SCHEMA_KEYWORD_FAULTS, Fault
from chargebench.ocppj.versions import OcppVersion

_cache: dict[tuple[str, str, bool], Any] = {}


def validator_for(version: OcppVersion, action: str, response: bool) -> Any:
    """Compiled validator of one action's request or response schema (cached per process)."""
    key = (version.name, action, response)
    validator = _cache.get(key)
    if validator is None:
        schema = json.loads(version.schema_text(action, response))
        validator = jsonschema_rs.Draft4Validator(schema, validate_formats=True)
        _cache[key] = validator
    return validator


def check_payload(version: OcppVersion, action: str, payload: Any, response: bool) -> None:
    """Raise `RemoteProtocolError` with the table's code when `payload` violates its schema."""
    validator = validator_for(version, action, response)
    try:
        if validator.is_valid(payload):
            return
    except (ValueError, RecursionError, OverflowError) as exc:
        # jsonschema-rs gives up on what it cannot convert ("Recursion limit reached"): the
        # payload is not one any schema describes (`wellformed` normally refuses it first)
        fault = Fault.TOO_DEEP if "ecursion" in str(exc) else Fault.SCHEMA_OTHER
        raise RemoteProtocolError(
            f"(payload): {fault.value}", fault, version.code_for(fault)
        ) from None
    error = next(iter(validator.iter_errors(payload)))
    keyword = str(error.schema_path[-1]) if error.schema_path else ""
    fault = SCHEMA_KEYWORD_FAULTS.get(keyword, Fault.SCHEMA_OTHER)
    path = ".".join(str(p) for p in error.instance_path)
    message = f"{path or '(payload)'}: {error.message}"
    raise RemoteProtocolError(message, fault, version.code_for(fault), path)
