"""OCPP 2.0.1 part 6 §3.5, D Local Authorization List Management, with a CSMS under test."""

from __future__ import annotations

from typing import Any

import pytest

from chargebench.matching import Predicate
from conformance.chargepoint import Command, params
from conformance.v201.station import Station, absent_or, id_token

#: the versionNumber the OCTT's list has when a case starts (GetLocalListVersion, D02)
STATION_VERSION = 1
#: "versionNumber <Bigger than 0>" / "<Bigger than currently configured in OCTT>"
NEWER = Predicate(f"<integer > {STATION_VERSION}>",
                  lambda value: type(value) is int and value > STATION_VERSION)
POSITIVE = Predicate("<integer > 0>", lambda value: type(value) is int and value > 0)
NOT_EMPTY = Predicate("<a non-empty list>", lambda value: isinstance(value, list) and value)
WITHOUT_INFO = Predicate("<AuthorizationData without idTokenInfo>", lambda value: bool(
    isinstance(value, list) and value and all("idTokenInfo" not in item for item in value)))


def _entries(*tags: str, info: bool = True) -> list[dict]:
    return [{"idToken": id_token(tag), **({"idTokenInfo": {"status": "Accepted"}} if info
                                          else {})} for tag in tags]


def _list(update: str, version: int, entries: list[dict] | None) -> dict:
    request: dict[str, Any] = {"versionNumber": version, "updateType": update}
    if entries is not None:
        request["localAuthorizationList"] = entries
    return request


ACCEPTED = {"status": "Accepted"}
COMMANDS = [
    Command("TC_D_01_CSMS", "SendLocalList", _list("Full", 2, _entries("CB-VALID-1", "CB-LA-2")),
            ACCEPTED, {"updateType": "Full", "versionNumber": POSITIVE,
                       "localAuthorizationList": NOT_EMPTY}),
    Command("TC_D_02_CSMS", "SendLocalList", _list("Differential", 3, _entries("CB-LA-3")),
            ACCEPTED, {"updateType": "Differential", "versionNumber": NEWER,
                       "localAuthorizationList": NOT_EMPTY}),
    Command("TC_D_03_CSMS", "SendLocalList",
            _list("Differential", 4, _entries("CB-LA-3", info=False)), ACCEPTED,
            {"updateType": "Differential", "versionNumber": NEWER,
             "localAuthorizationList": WITHOUT_INFO}),
    Command("TC_D_04_CSMS", "SendLocalList", _list("Full", 5, None), ACCEPTED,
            {"updateType": "Full", "localAuthorizationList": absent_or([])}),
    Command("TC_D_08_CSMS", "GetLocalListVersion", {}, {"versionNumber": STATION_VERSION}),
    Command("TC_D_09_CSMS", "GetLocalListVersion", {}, {"versionNumber": 0}),
]


@pytest.mark.parametrize("command", params(COMMANDS))
async def test_command(cs: Station, command: Command):
    """TC_D_01-04/08/09_CSMS: SendLocalList of each kind (a full list, a differential update
    or removal with a version above the station's, a full empty list), GetLocalListVersion
    answered with the station's version or 0."""
    await command.run(cs)  # type: ignore[arg-type]  # Station speaks ChargePoint's protocol
