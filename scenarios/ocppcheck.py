"""What a scenario says about OCPP messages, checked against the 1.6 schemas before anything runs.

`send:` and `command:` name an action and give its payload; `expect:` names an action and a
matcher over its payload; `reply:` matches the answer. A misspelt action or field would only show
up as a timeout in the middle of a run ("expected StartTransactoin within 30 s"), so the loader
asks here first. The actions and the schemas are the `ocpp` package's (`chargebench.ocppj`'s
`DEFAULT_VERSION`, 1.6 plus the security whitepaper's messages); nothing here restates them.

Sans-I/O: each function returns `(path, reason, at_key)` problems, `path` relative to what it was
given; the loader turns them into FILE:LINE:COL lines. Values still holding `${name}` are only
known at run time and are not judged (their field names are).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Hashable, Iterator, Mapping
from functools import cache
from typing import Any

from chargebench.matching import is_operator_mapping
from chargebench.ocppj.validation import validator_for
from chargebench.ocppj.versions import DEFAULT_VERSION
from scenarios.values import has_variables

__all__ = ["Problem", "action_problem", "matcher_problems", "payload_problems", "suggest"]

#: (path below the checked value, reason, whether the path ends at a mapping key)
Problem = tuple[tuple[Hashable, ...], str, bool]

#: Which end starts the actions a step may name (OCPP 1.6 §4, §5: who sends what)
_SENDERS = {"send": DEFAULT_VERSION.cp_initiated, "command": DEFAULT_VERSION.cs_initiated}


def suggest(name: str, known: Any) -> str:
    """` (did you mean X?)` when something in `known` is close to `name`, else ''."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def action_problem(verb: str, action: Any) -> str | None:
    """Why `action` cannot be the action of this step (None when it can)."""
    if not isinstance(action, str) or has_variables(action):
        return None
    if action not in DEFAULT_VERSION.actions:
        return f"unknown OCPP 1.6 action {action!r}{suggest(action, DEFAULT_VERSION.actions)}"
    allowed = _SENDERS.get(verb)
    if allowed is not None and action not in allowed:
        other = "command:" if verb == "send" else "send:"
        sender = "the charge point" if verb == "command" else "the CSMS"
        return f"{action} is sent by {sender} (OCPP 1.6): use {other}"
    return None


@cache
def _schema(action: str, response: bool) -> dict[str, Any]:
    return json.loads(DEFAULT_VERSION.schema_text(action, response))


def _title(action: str, response: bool) -> str:
    return f"{action}.{'conf' if response else 'req'}"


def payload_problems(action: str, payload: Any, response: bool) -> list[Problem]:
    """A payload as it will be sent, against its schema: every error, with did-you-mean for a
    field the schema does not have."""
    if not isinstance(payload, Mapping) or action not in DEFAULT_VERSION.actions:
        return []
    problems = list(_unknown_fields(payload, _schema(action, response), (), action, response))
    for error in validator_for(DEFAULT_VERSION, action, response).iter_errors(dict(payload)):
        keyword = str(error.schema_path[-1]) if error.schema_path else ""
        path = tuple(error.instance_path)
        if keyword == "additionalProperties" or _holds_variables(payload, path):
            continue  # the first: said above, by name; the second: known only at run time
        problems.append((path, f"{error.message} ({_title(action, response)})", False))
    return problems


def matcher_problems(action: str, spec: Any, response: bool) -> list[Problem]:
    """Field names of a matcher spec (`expect: payload:`, `reply:`) that the action's payload
    cannot have: such a matcher could never match."""
    if action not in DEFAULT_VERSION.actions:
        return []
    return list(_matcher_fields(spec, _schema(action, response), (), action, response))


def _unknown_fields(value: Any, schema: Mapping[str, Any], path: tuple, action: str,
                    response: bool) -> Iterator[Problem]:
    if isinstance(value, Mapping):
        properties = schema.get("properties", {})
        for key, inner in value.items():
            if key in properties:
                yield from _unknown_fields(inner, properties[key], (*path, key), action, response)
            elif schema.get("additionalProperties") is False and not has_variables(key):
                yield (*path, key), _no_field(key, properties, action, response), True
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            yield from _unknown_fields(item, schema["items"], (*path, index), action, response)


def _matcher_fields(spec: Any, schema: Mapping[str, Any], path: tuple, action: str,
                    response: bool) -> Iterator[Problem]:
    if is_operator_mapping(spec):
        for name, operand in spec.items():
            where = (*path, name)
            if name == "some" and isinstance(schema.get("items"), Mapping):
                yield from _matcher_fields(operand, schema["items"], where, action, response)
            elif name == "not":
                yield from _matcher_fields(operand, schema, where, action, response)
            elif name == "any_of" and isinstance(operand, list):
                for index, option in enumerate(operand):
                    yield from _matcher_fields(option, schema, (*where, index), action, response)
    elif isinstance(spec, Mapping):
        properties = schema.get("properties")
        if properties is None:  # not an object in the schema: the matcher's own error
            return
        for key, inner in spec.items():
            if key in properties:
                yield from _matcher_fields(inner, properties[key], (*path, key), action, response)
            elif not has_variables(key):
                yield (*path, key), _no_field(key, properties, action, response), True
    elif isinstance(spec, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(spec):
            yield from _matcher_fields(item, schema["items"], (*path, index), action, response)


def _no_field(key: Any, properties: Mapping[str, Any], action: str, response: bool) -> str:
    known = ", ".join(properties) or "none"
    hint = suggest(str(key), properties)
    return (f"{_title(action, response)} has no field {key!r}{hint}" if hint
            else f"{_title(action, response)} has no field {key!r} (its fields: {known})")


def _at(value: Any, path: tuple) -> Any:
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _holds_variables(payload: Any, path: tuple) -> bool:
    """Is the value at `path` text holding a `${name}` (its type and format are not known)?"""
    value = _at(payload, path)
    return isinstance(value, str) and has_variables(value)
