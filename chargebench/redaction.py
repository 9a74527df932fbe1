"""Secrets never reach a record: which frame fields hold one, as data, and the redactor.

Every trace record is made by `chargebench.trace.make_tracer`, which runs `redact()` on the
payload first, so the CSMS message log (database), the API's log replies, `logs/charger.<ID>.log`,
the simulator's OCPP trace and every trace file get the same treatment. The frame on the wire
and the payload handed to handlers are untouched (the redactor copies before it changes).

What is kept: the key or variable name and the fact that a value was set; the value becomes
`REDACTED`. Security whitepaper ed. 3 A01.FR.12 / OCPP 2.0.1 A01.FR.12 ("The Charging Station
SHALL NOT disclose the AuthorizationKey/BasicAuthPassword in logging"); the CSMS owes the same.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

REDACTED = "<redacted>"


@dataclass(frozen=True, slots=True)
class SecretField:
    """`field` of each object at `at` (dotted path; `name[]` walks a list) of `action`'s request
    (or response) holds a secret when the object's `when` path equals one of `names` (no
    `when`: always)."""

    action: str
    response: bool
    at: str
    field: str
    when: str = ""
    names: frozenset[str] = frozenset()


def _names(*names: str) -> frozenset[str]:
    return frozenset(names)


#: The secrets OCPP frames carry. 1.6: AuthorizationKey (whitepaper §7.2), set by
#: ChangeConfiguration and readable (if a charger misbehaves) through GetConfiguration.
#: 2.0.1: SecurityCtrlr.BasicAuthPassword (set by SetVariables, read by GetVariables/NotifyReport),
#: and the APN/VPN credentials of SetNetworkProfile.
SECRET_FIELDS: tuple[SecretField, ...] = (
    SecretField("ChangeConfiguration", False, "", "value", "key", _names("AuthorizationKey")),
    SecretField("GetConfiguration", True, "configurationKey[]", "value", "key",
                _names("AuthorizationKey")),
    SecretField("SetVariables", False, "setVariableData[]", "attributeValue", "variable.name",
                _names("BasicAuthPassword")),
    SecretField("GetVariables", True, "getVariableResult[]", "attributeValue", "variable.name",
                _names("BasicAuthPassword")),
    SecretField("NotifyReport", False, "reportData[].variableAttribute[]", "value"),
    SecretField("SetNetworkProfile", False, "connectionData.apn", "apnPassword"),
    SecretField("SetNetworkProfile", False, "connectionData.vpn", "password"),
    SecretField("SetNetworkProfile", False, "connectionData.vpn", "key"),
)

#: Messages that carry certificates (1.6 whitepaper, 2.0.1 blocks A and M) or vendor data:
#: any PEM private key inside one of their strings is cut out, whatever the field.
PEM_ACTIONS = frozenset({
    "CertificateSigned", "InstallCertificate", "SignCertificate", "GetInstalledCertificateIds",
    "Get15118EVCertificate", "GetCertificateStatus", "DataTransfer",
})
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)", re.S
)
_MARKER = "PRIVATE KEY-----"

_BY_MESSAGE: dict[tuple[str, bool], tuple[SecretField, ...]] = {}
for _rule in SECRET_FIELDS:
    _key = (_rule.action, _rule.response)
    _BY_MESSAGE[_key] = (*_BY_MESSAGE.get(_key, ()), _rule)

# NotifyReport's values are secret only for the BasicAuthPassword variable: the rule above names
# the walk, this names the condition one level up (the reportData item).
_PARENT_WHEN = {("NotifyReport", False): ("variable.name", _names("BasicAuthPassword"))}


def redact(action: str | None, payload: Any, *, response: bool) -> Any:
    """`payload` with every secret replaced by `REDACTED`; the same object when nothing is."""
    if action is None or type(payload) is not dict:
        return payload
    rules = _BY_MESSAGE.get((action, response))
    result = payload
    if rules:
        result = _apply(action, response, rules, payload)
    if action in PEM_ACTIONS:
        result = _scrub_keys(result)
    return result


def redact_text(text: Any) -> Any:
    """A frame kept as text (a RAW record): private keys cut out; a frame that names a secret
    key is kept only as far as it can be redacted."""
    if type(text) is not str:
        return text
    if _MARKER in text:
        text = _PRIVATE_KEY.sub(REDACTED, text)
    for name in _SECRET_NAMES:
        if name in text:
            return REDACTED
    return text


_SECRET_NAMES = ("AuthorizationKey", "BasicAuthPassword", "apnPassword")


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if type(obj) is not dict:
            return None
        obj = obj.get(part)
    return obj


def _targets(obj: Any, path: str) -> list[Any]:
    """Objects reached from `obj` along `path` (`a.b[]`: every item of list b)."""
    found = [obj]
    for part in path.split(".") if path else ():
        step: list[Any] = []
        many = part.endswith("[]")
        name = part[:-2] if many else part
        for item in found:
            if type(item) is not dict:
                continue
            child = item.get(name)
            if many:
                step.extend(child if type(child) is list else ())
            elif child is not None:
                step.append(child)
        found = step
    return found


def _apply(action: str, response: bool, rules: tuple[SecretField, ...], payload: dict) -> dict:
    parent_when = _PARENT_WHEN.get((action, response))
    if not any(_hits(payload, rule, parent_when) for rule in rules):
        return payload
    copied = copy.deepcopy(payload)  # rare: the handler's payload stays as received
    for rule in rules:
        for target in _hits(copied, rule, parent_when):
            target[rule.field] = REDACTED
    return copied


def _hits(source: dict, rule: SecretField, parent_when: tuple[str, frozenset] | None) -> list:
    if parent_when is not None:
        return _nested_hits(source, rule, parent_when)
    return [
        t for t in _targets(source, rule.at)
        if type(t) is dict and rule.field in t
        and (not rule.when or _get(t, rule.when) in rule.names)
    ]


def _nested_hits(source: dict, rule: SecretField, parent_when: tuple[str, frozenset]) -> list:
    """NotifyReport: reportData items whose variable is secret, then their attributes."""
    head, _, rest = rule.at.partition(".")
    when, names = parent_when
    hits: list[dict[str, Any]] = []
    for parent in _targets(source, head):
        if type(parent) is dict and _get(parent, when) in names:
            hits.extend(
                t for t in _targets(parent, rest) if type(t) is dict and rule.field in t
            )
    return hits


def _scrub_keys(payload: Any) -> Any:
    """`payload` with PEM private keys cut out of its strings (copied only if one is found)."""
    if not _contains_marker(payload):
        return payload
    return _scrubbed(payload)


def _contains_marker(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:
            if _MARKER in item:
                return True
        elif type(item) is dict:
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return False


def _scrubbed(value: Any) -> Any:
    if type(value) is str:
        return _PRIVATE_KEY.sub(REDACTED, value) if _MARKER in value else value
    if type(value) is dict:
        return {key: _scrubbed(child) for key, child in value.items()}
    if type(value) is list:
        return [_scrubbed(child) for child in value]
    return value
