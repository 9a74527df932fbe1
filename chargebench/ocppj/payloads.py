"""Bridge between the `ocpp` package's dataclasses and wire payloads (dicts).

The session core speaks dicts (the hot path never converts); callers that like typed messages
pass `ocpp.v16.call.*` / `ocpp.v16.call_result.*` instances and read replies back as them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ocpp.charge_point import camel_to_snake_case, remove_nones, snake_to_camel_case

from chargebench.ocppj.versions import DEFAULT_VERSION, OcppVersion


def to_payload(message: Any) -> dict:
    """Wire payload of an `ocpp` dataclass, or a dict passed through unchanged."""
    if isinstance(message, dict):
        return message
    if not dataclasses.is_dataclass(message) or isinstance(message, type):
        raise TypeError(f"expected a dict or an ocpp dataclass, got {type(message).__name__}")
    return snake_to_camel_case(remove_nones(dataclasses.asdict(message)))


def action_of(message: Any) -> str:
    """The OCPP action named by an `ocpp.v16.call` dataclass (its class name)."""
    return type(message).__name__


def from_payload(
    action: str, payload: dict, *, response: bool, version: OcppVersion = DEFAULT_VERSION
) -> Any:
    """The `ocpp` dataclass for a received payload (request or response of `action`)."""
    module = version.call_result_module if response else version.call_module
    cls = getattr(module, action)
    return cls(**camel_to_snake_case(payload))
