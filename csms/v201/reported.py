"""A 2.0.1 station's messages about its device model as store rows, sans-I/O
(`Store.record_station_variables`): a NotifyReport's reportData (B07/B08), a GetVariables or
SetVariables result (B06/B05) and a NotifyEvent's eventData (N07). The CSMS keeps what the
station said, attribute by attribute; the model itself is the station's."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from csms.store.variables import variable_key

__all__ = ["BASIC_AUTH_PASSWORD", "SECRETS", "event_rows", "key_of", "report_rows", "result_rows",
           "sent_values"]


def _address(component: Mapping[str, Any], variable: Mapping[str, Any]) -> dict[str, Any]:
    evse = component.get("evse") or {}
    return {
        "component": component["name"], "component_instance": component.get("instance"),
        "evse_id": evse.get("id"), "connector_id": evse.get("connectorId"),
        "variable": variable["name"], "variable_instance": variable.get("instance"),
    }  # fmt: skip


def key_of(component: Mapping[str, Any], variable: Mapping[str, Any]) -> str:
    """The flat reported-configuration key of a wire component and variable."""
    address = _address(component, variable)
    return variable_key(address.pop("component"), address.pop("variable"), **address)


#: A01.FR.01: the basic-auth password's component and variable
BASIC_AUTH_PASSWORD = ("SecurityCtrlr", "BasicAuthPassword")
#: (component, variable) whose value the CSMS never keeps, whatever a station reports: the
#: basic-auth password is WriteOnly (A01.FR.08/09; the store keeps only its hash)
SECRETS = frozenset({BASIC_AUTH_PASSWORD})


def report_rows(report_data: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """B07/B08: every attribute of every reported variable, with its mutability (default
    ReadWrite), persistent/constant (default false) and the variable's characteristics; a
    secret's value (`SECRETS`) is left out even when a station wrongly reports it."""
    for item in report_data:
        address = _address(item["component"], item["variable"])
        characteristics = item.get("variableCharacteristics")
        secret = (address["component"], address["variable"]) in SECRETS
        for attribute in item["variableAttribute"]:
            yield {**address, "attribute_type": attribute.get("type", "Actual"),
                   "value": None if secret else attribute.get("value"),
                   "mutability": attribute.get("mutability", "ReadWrite"),
                   "persistent": attribute.get("persistent", False),
                   "constant": attribute.get("constant", False),
                   "characteristics": characteristics}  # fmt: skip


def result_rows(results: Iterable[Mapping[str, Any]], statuses: tuple[str, ...],
                sent: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:  # fmt: skip
    """The value of each result whose attributeStatus is in `statuses`: a GetVariableResult's
    attributeValue, or for a SetVariableResult (no value in it) the value sent, looked up in
    `sent` by `key_of` and attribute type."""
    for result in results:
        if result["attributeStatus"] not in statuses:
            continue
        kind = result.get("attributeType", "Actual")
        if (result["component"]["name"], result["variable"]["name"]) in SECRETS:
            continue
        if sent is not None:
            value = sent.get(f"{key_of(result['component'], result['variable'])}#{kind}")
        else:
            value = result.get("attributeValue")
        if value is None:
            continue
        yield {**_address(result["component"], result["variable"]), "attribute_type": kind,
               "value": value}  # fmt: skip


def sent_values(set_variable_data: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """A SetVariablesRequest's values by `key_of` and attribute type, for `result_rows`."""
    return {
        f"{key_of(item['component'], item['variable'])}#{item.get('attributeType', 'Actual')}":
            item["attributeValue"]
        for item in set_variable_data
    }  # fmt: skip


def event_rows(event_data: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """N07: an event's actualValue is the variable's Actual value now (G01: a connector's
    AvailabilityState may come this way instead of a StatusNotification)."""
    for event in event_data:
        address = _address(event["component"], event["variable"])
        secret = (address["component"], address["variable"]) in SECRETS
        yield {**address, "attribute_type": "Actual",
               "value": None if secret else event["actualValue"]}  # fmt: skip
