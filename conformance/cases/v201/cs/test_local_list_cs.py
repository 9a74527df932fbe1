"""OCPP 2.0.1 part 6 §2.5, D Local Authorization List Management, with a Charging Station
under test. Not applicable to a station without LocalAuthListCtrlr (its device model)."""

from __future__ import annotations

import pytest

from conformance.v201.central import token
from conformance.v201.states import Cs, booted, id_token_local_auth_list, next_id


async def _enabled(cs: Cs) -> None:
    """Configuration State: LocalAuthListEnabled is true (If implemented)."""
    await cs.configure("LocalAuthListCtrlr", "Enabled", "true")


async def _version(cs: Cs, version: int) -> None:
    await cs.ask("GetLocalListVersion", {}, {"versionNumber": version})


@pytest.mark.octt("TC_D_01_CS")
async def test_send_full(cs: Cs):
    """TC_D_01_CS: SendLocalList Full with the valid idToken: Accepted; the version is kept
    (D01.FR.01/02, D02.FR.?)."""
    await _enabled(cs)
    version = await id_token_local_auth_list(cs)
    await _version(cs, version)


async def _differential(cs: Cs, entries: list[dict]) -> None:
    await _enabled(cs)
    version = await id_token_local_auth_list(cs)
    payload: dict = {"versionNumber": version + 1, "updateType": "Differential"}
    if entries:  # an empty list is an absent one (the schema's minItems 1)
        payload["localAuthorizationList"] = entries
    await cs.ask("SendLocalList", payload, {"status": "Accepted"})
    await _version(cs, version + 1)


@pytest.mark.octt("TC_D_02_CS")
async def test_differential_update(cs: Cs):
    """TC_D_02_CS: Differential adding a second idToken: Accepted, version + 1 (D01.FR.?)."""
    await _differential(cs, [{"idToken": token("CB-VALID-2"),
                              "idTokenInfo": {"status": "Accepted"}}])


@pytest.mark.octt("TC_D_03_CS")
async def test_differential_remove(cs: Cs):
    """TC_D_03_CS: Differential with entries without idTokenInfo (removals): Accepted."""
    await _differential(cs, [{"idToken": cs.valid}])


@pytest.mark.octt("TC_D_05_CS")
async def test_differential_empty(cs: Cs):
    """TC_D_05_CS: Differential with an empty list: Accepted, the version taken."""
    await _differential(cs, [])


@pytest.mark.octt("TC_D_04_CS")
async def test_full_empty(cs: Cs):
    """TC_D_04_CS: Full with an empty list (clears it): Accepted, the version taken."""
    await _enabled(cs)
    await id_token_local_auth_list(cs)
    version = next_id()
    await cs.ask("SendLocalList", {"versionNumber": version, "updateType": "Full"},
                 {"status": "Accepted"})
    await _version(cs, version)


@pytest.mark.octt("TC_D_06_CS")
async def test_version_mismatch(cs: Cs):
    """TC_D_06_CS: Differential with a version below the station's: VersionMismatch, the
    version unchanged (D01.FR.18/19)."""
    await _enabled(cs)
    version = await id_token_local_auth_list(cs)
    await cs.ask("SendLocalList", {
        "versionNumber": version - 1, "updateType": "Differential",
        "localAuthorizationList": [{"idToken": token("CB-VALID-2"),
                                    "idTokenInfo": {"status": "Accepted"}}]},
        {"status": "VersionMismatch"})
    await _version(cs, version)


@pytest.mark.octt("TC_D_07_CS")
async def test_persists_reboot(cs: Cs):
    """TC_D_07_CS: the list and its version survive a reboot (D01.FR.?)."""
    await _enabled(cs)
    version = await id_token_local_auth_list(cs)
    await booted(cs)
    await _version(cs, version)


@pytest.mark.octt("TC_D_08_CS")
async def test_get_version(cs: Cs):
    """TC_D_08_CS: GetLocalListVersion answers the version last sent (D02.FR.01)."""
    await _enabled(cs)
    version = await id_token_local_auth_list(cs)
    await _version(cs, version)


@pytest.mark.octt("TC_D_10_CS")
async def test_get_version_disabled(cs: Cs):
    """TC_D_10_CS: LocalAuthListEnabled false: versionNumber 0 (D02.FR.02)."""
    if not await cs.configure("LocalAuthListCtrlr", "Enabled", "false"):
        pytest.skip("not applicable: LocalAuthListCtrlr.Enabled cannot be set false")
    await _version(cs, 0)
