"""What a scenario says about OCPP messages, checked against the OCPP schemas before anything runs.

`send:` and `command:` name an action and give its payload; `expect:` names an action and a
matcher over its payload; `reply:` matches the answer. A misspelt action or field would only show
up as a timeout in the middle of a run ("expected StartTransactoin within 30 s"), so the loader
asks here first. The actions and the schemas are the `ocpp` package's, per version
(`chargebench.ocppj.versions`: 1.6 plus the security whitepaper's messages, and 2.0.1); nothing
here restates them. Each check takes the version of the charge points the step acts on
(`version_of`; a fleet group's `ocpp:`, 1.6 by default).

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
from chargebench.ocppj.versions import DEFAULT_VERSION, VERSIONS, OcppVersion
from scenarios.values import has_variables

__all__ = ["OCPP_VERSIONS", "Problem", "action_problem", "matcher_problems", "payload_problems",
           "suggest", "version_of"]

#: (path below the checked value, reason, whether the path ends at a mapping key)
Problem = tuple[tuple[Hashable, ...], str, bool]

#: The versions a fleet group's `ocpp:` may name, by that name ("1.6", "2.0.1")
OCPP_VERSIONS: dict[str, OcppVersion] = {v.name: v for v in VERSIONS.values()}


def version_of(name: str) -> OcppVersion:
    """The `OcppVersion` a group's `ocpp:` names (the loader has checked the name)."""
    return OCPP_VERSIONS[name]


def _senders(verb: str, version: OcppVersion) -> frozenset[str] | None:
    """Which end starts the actions a step may name (1.6 §4, §5; 2.0.1 part 2: who sends
    what): `send:` the charge point's CALLs, `command:` the CSMS's."""
    return {"send": version.cp_initiated, "command": version.cs_initiated}.get(verb)


def suggest(name: str, known: Any) -> str:
    """` (did you mean X?)` when something in `known` is close to `name`, else ''."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def action_problem(verb: str, action: Any, version: OcppVersion = DEFAULT_VERSION
                   ) -> str | None:
    """Why `action` cannot be the action of this step on `version`'s charge points (None when
    it can)."""
    if not isinstance(action, str) or has_variables(action):
        return None
    if action not in version.actions:
        other = next((v for v in OCPP_VERSIONS.values()
                      if v is not version and action in v.actions), None)
        hint = (f" ({action} is OCPP {other.name}: this step acts on {version.name} charge "
                "points)" if other is not None else suggest(action, version.actions))
        return f"unknown OCPP {version.name} action {action!r}{hint}"
    allowed = _senders(verb, version)
    if allowed is not None and action not in allowed:
        other_verb = "command:" if verb == "send" else "send:"
        sender = "the charge point" if verb == "command" else "the CSMS"
        return f"{action} is sent by {sender} (OCPP {version.name}): use {other_verb}"
    return None


@cache
def _schema(version: OcppVersion, action: str, response: bool) -> dict[str, Any]:
    return json.loads(version.schema_text(action, response))


def _title(version: OcppVersion, action: str, response: bool) -> str:
    """How the version's specification names the message: StartTransaction.req (1.6),
    TransactionEventRequest (2.0.1)."""
    return version.message_title(action, response)


def payload_problems(action: str, payload: Any, response: bool,
                     version: OcppVersion = DEFAULT_VERSION) -> list[Problem]:
    """A payload as it will be sent, against its schema: every error, with did-you-mean for a
    field the schema does not have."""
    if not isinstance(payload, Mapping) or action not in version.actions:
        return []
    title = _title(version, action, response)
    problems = list(_unknown_fields(payload, _schema(version, action, response), (), title))
    for error in validator_for(version, action, response).iter_errors(dict(payload)):
        keyword = str(error.schema_path[-1]) if error.schema_path else ""
        path = tuple(error.instance_path)
        if keyword == "additionalProperties" or _holds_variables(payload, path):
            continue  # the first: said above, by name; the second: known only at run time
        problems.append((path, f"{error.message} ({title})", False))
    return problems


def matcher_problems(action: str, spec: Any, response: bool,
                     version: OcppVersion = DEFAULT_VERSION) -> list[Problem]:
    """Field names of a matcher spec (`expect: payload:`, `reply:`) that the action's payload
    cannot have: such a matcher could never match."""
    if action not in version.actions:
        return []
    schema = _schema(version, action, response)
    return list(_matcher_fields(spec, schema, (), _title(version, action, response), schema))


def _deref(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """`schema` with a local `$ref` followed (the 2.0.1 schemas keep their types in
    `definitions`: "#/definitions/TransactionType")."""
    seen = 0
    while isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/") and seen < 8:
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        schema, seen = target, seen + 1
    return schema


def _unknown_fields(value: Any, schema: Mapping[str, Any], path: tuple, title: str,
                    root: Mapping[str, Any] | None = None) -> Iterator[Problem]:
    root = schema if root is None else root
    schema = _deref(schema, root)
    if isinstance(value, Mapping):
        properties = schema.get("properties", {})
        for key, inner in value.items():
            if key in properties:
                yield from _unknown_fields(inner, properties[key], (*path, key), title, root)
            elif schema.get("additionalProperties") is False and not has_variables(key):
                yield (*path, key), _no_field(key, properties, title), True
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            yield from _unknown_fields(item, schema["items"], (*path, index), title, root)


def _matcher_fields(spec: Any, schema: Mapping[str, Any], path: tuple, title: str,
                    root: Mapping[str, Any]) -> Iterator[Problem]:
    schema = _deref(schema, root)
    if is_operator_mapping(spec):
        for name, operand in spec.items():
            where = (*path, name)
            if name == "some" and isinstance(schema.get("items"), Mapping):
                yield from _matcher_fields(operand, schema["items"], where, title, root)
            elif name == "not":
                yield from _matcher_fields(operand, schema, where, title, root)
            elif name == "any_of" and isinstance(operand, list):
                for index, option in enumerate(operand):
                    yield from _matcher_fields(option, schema, (*where, index), title, root)
    elif isinstance(spec, Mapping):
        properties = schema.get("properties")
        if properties is None:  # not an object in the schema: the matcher's own error
            return
        for key, inner in spec.items():
            if key in properties:
                yield from _matcher_fields(inner, properties[key], (*path, key), title, root)
            elif not has_variables(key):
                yield (*path, key), _no_field(key, properties, title), True
    elif isinstance(spec, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(spec):
            yield from _matcher_fields(item, schema["items"], (*path, index), title, root)


def _no_field(key: Any, properties: Mapping[str, Any], title: str) -> str:
    known = ", ".join(properties) or "none"
    hint = suggest(str(key), properties)
    return (f"{title} has no field {key!r}{hint}" if hint
            else f"{title} has no field {key!r} (its fields: {known})")


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
