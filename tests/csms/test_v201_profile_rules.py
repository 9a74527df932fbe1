"""The 2.0.1 rules of what a CSMS may send in SetChargingProfile and ClearChargingProfile
(`csms.v201.profiles`): each forbidden variant names its requirement, every legal variant of
part 2 passes (a rule that refused a legal profile would block a correct station's test)."""

from __future__ import annotations

import pytest

from chargebench.ocppj.validation import validator_for
from chargebench.ocppj.versions import OCPP201
from csms.v201.profiles import clear_problems, problems

START = "2026-03-01T00:00:00Z"
MAX = "ChargingStationMaxProfile"


def profile(**fields: object) -> dict:
    schedule = {"id": 1, "chargingRateUnit": "A", "startSchedule": START,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}  # fmt: skip
    return {"id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute", "chargingSchedule": [schedule],
            **fields}  # fmt: skip


def schedule(**fields: object) -> list[dict]:
    return [{**profile()["chargingSchedule"][0], **fields}]


def relative() -> dict:
    (plain,) = schedule()
    del plain["startSchedule"]
    return profile(chargingProfileKind="Relative", chargingSchedule=[plain])


def row(profile_id: int, evse: int, held: dict) -> dict:
    return {"profile_id": profile_id, "connector_id": evse, "profile": held}


LEGAL = {
    "absolute default on EVSE 0": (0, profile()),
    "relative default, no startSchedule (K01.FR.41)": (1, relative()),
    "recurring daily": (1, profile(chargingProfileKind="Recurring", recurrencyKind="Daily")),
    "station max on EVSE 0 (K04.FR.03)": (0, profile(chargingProfilePurpose=MAX)),
    "tx profile with its transaction on EVSE 1": (1, profile(chargingProfilePurpose="TxProfile",
                                                             transactionId="TX-1")),
    "one phase chosen (K01.FR.19)": (1, profile(chargingSchedule=schedule(chargingSchedulePeriod=[
        {"startPeriod": 0, "limit": 16, "numberPhases": 1, "phaseToUse": 2}]))),
    "periods in order (K01.FR.35)": (1, profile(chargingSchedule=schedule(chargingSchedulePeriod=[
        {"startPeriod": 0, "limit": 16}, {"startPeriod": 600, "limit": 8}]))),
}  # fmt: skip

ILLEGAL = {
    "K01.FR.22": (1, profile(chargingProfilePurpose="ChargingStationExternalConstraints")),
    "K01.FR.03": (1, profile(chargingProfilePurpose="TxProfile")),
    "K01.FR.16": (0, profile(chargingProfilePurpose="TxProfile", transactionId="TX-1")),
    "K04.FR.03": (1, profile(chargingProfilePurpose=MAX)),
    "K01.FR.38": (0, {**relative(), "chargingProfilePurpose": MAX}),
    "K01.FR.40": (1, profile(chargingSchedule=[relative()["chargingSchedule"][0]])),
    "K01.FR.41": (1, {**profile(), "chargingProfileKind": "Relative"}),
    "K01.FR.31": (1, profile(chargingSchedule=schedule(chargingSchedulePeriod=[
        {"startPeriod": 60, "limit": 16}]))),
    "K01.FR.35": (1, profile(chargingSchedule=schedule(chargingSchedulePeriod=[
        {"startPeriod": 0, "limit": 16}, {"startPeriod": 0, "limit": 8}]))),
    "K01.FR.19": (1, profile(chargingSchedule=schedule(chargingSchedulePeriod=[
        {"startPeriod": 0, "limit": 16, "numberPhases": 3, "phaseToUse": 2}]))),
}  # fmt: skip


def _schema_valid(evse: int, body: dict) -> None:
    # every variant here is valid against the `ocpp` package's schema: the rules add to it
    validator = validator_for(OCPP201, "SetChargingProfile", False)
    assert not list(validator.iter_errors({"evseId": evse, "chargingProfile": body}))


@pytest.mark.parametrize("name", sorted(LEGAL))
def test_legal_profiles_pass(name):
    evse, body = LEGAL[name]
    _schema_valid(evse, body)
    assert problems({"evseId": evse, "chargingProfile": body}) == []


@pytest.mark.parametrize("requirement", sorted(ILLEGAL))
def test_each_forbidden_profile_names_its_requirement(requirement):
    evse, body = ILLEGAL[requirement]
    _schema_valid(evse, body)
    found = problems({"evseId": evse, "chargingProfile": body})
    assert [problem.requirement for problem in found] == [requirement]


def test_a_held_slot_is_taken_only_while_validities_overlap():
    """K01.FR.06: same stackLevel, purpose and EVSE with another id, overlapping in time; the
    same id replaces (K01.FR.05); another EVSE or a disjoint validity is free. K01.FR.39: a
    TxProfile's slot is its stackLevel and transaction."""
    held = [row(5, 1, profile(id=5, validFrom="2026-01-01T00:00:00Z", validTo=START))]
    mine = profile(id=6)
    assert [p.requirement for p in problems({"evseId": 1, "chargingProfile": mine}, held)] == [
        "K01.FR.06"
    ]
    later = profile(id=6, validFrom="2026-03-01T01:00:00+01:00")  # == START: disjoint
    assert problems({"evseId": 1, "chargingProfile": later}, held) == []
    assert problems({"evseId": 2, "chargingProfile": mine}, held) == []
    assert problems({"evseId": 1, "chargingProfile": profile(id=5)}, held) == []
    tx = profile(id=7, chargingProfilePurpose="TxProfile", transactionId="TX-1")
    on_tx = [row(8, 2, {**tx, "id": 8})]
    found = problems({"evseId": 1, "chargingProfile": tx}, on_tx)
    assert [p.requirement for p in found] == ["K01.FR.39"]
    other_tx = {**tx, "transactionId": "TX-2"}
    assert problems({"evseId": 1, "chargingProfile": other_tx}, on_tx) == []


def test_clear_names_what_it_clears():
    """K10.FR.02: an id or at least one criterion; K10.FR.06: never the external constraints."""
    assert clear_problems({"chargingProfileId": 3}) == []
    assert clear_problems({"chargingProfileCriteria": {"stackLevel": 0}}) == []
    assert [p.requirement for p in clear_problems({})] == ["K10.FR.02"]
    assert [p.requirement for p in clear_problems({"chargingProfileCriteria": {}})] == ["K10.FR.02"]
    external = {"chargingProfileCriteria": {"chargingProfilePurpose":
                                            "ChargingStationExternalConstraints"}}  # fmt: skip
    assert [p.requirement for p in clear_problems(external)] == ["K10.FR.06"]
