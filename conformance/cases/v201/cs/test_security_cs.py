"""OCPP 2.0.1 part 6 §2.2, A Security, with a Charging Station under test: HTTP Basic
authentication with the BasicAuthPassword (A00, A01) and a refused downgrade of the security
profile (A05, B09.FR.04).

The password the OCTT is "configured" with is `--cb-password` (the self run passes the
station's); ChargeBench's listener admits a connection only with it, so a station that connects
and boots has sent it. The TLS cases (A04-A07), certificate signing (A11-A15, A23) and the
profile upgrades (A19-A21) are not implemented: they need the listener to offer TLS with a CSMS
certificate from a root the station trusts, which the 2.0.1 self run does not set up yet.
"""

from __future__ import annotations

import re
import secrets

import pytest

from conformance.expect import Mismatch, one_of
from conformance.v201.states import Cs, booted

#: A00.FR.205 passwordString: 16-40 characters of the identifierString set
PASSWORD = re.compile(r"[A-Za-z0-9*\-_=:+|@.]{16,40}")


def _active_profile(cs: Cs) -> int:
    """The security profile of the station's active connection (how the listener admitted
    it: part 6's "active NetworkConnectionProfile"), not what SecurityCtrlr.SecurityProfile
    claims."""
    admission = cs.peer.security
    return admission.profile if admission is not None else 0


def _need_basic_auth(cs: Cs) -> str:
    """The case's prerequisite: the active connection uses profile 1 or 2 (HTTP Basic), and
    the OCTT knows the password."""
    profile = _active_profile(cs)
    if profile not in (1, 2):
        pytest.skip(f"not applicable: the station connected with security profile {profile} "
                    "(needs 1 or 2: HTTP Basic)")
    if cs.central.password is None:
        pytest.skip("not applicable: no BasicAuthPassword configured (--cb-password)")
    return cs.central.password


def _admitted_with(cs: Cs, password: str) -> None:
    admission = cs.peer.security
    if admission is None or admission.key != password or admission.profile not in (1, 2):
        raise Mismatch(f"connection admitted as {admission.describe() if admission else None}",
                       "HTTP Basic with the configured BasicAuthPassword")


@pytest.mark.octt("TC_A_01_CS")
async def test_basic_auth_valid(cs: Cs):
    """TC_A_01_CS: Reusable State Booted: the upgrade request's Authorization header is Basic
    <ChargingStationId>:<configured BasicAuthPassword> (A00.FR.203/204: the listener admits
    no other), the password 16-40 characters of the identifierString set (A00.FR.205)."""
    password = _need_basic_auth(cs)
    await booted(cs)
    _admitted_with(cs, password)
    if not PASSWORD.fullmatch(password):
        raise Mismatch("the configured BasicAuthPassword is not a passwordString of 16-40 "
                       "characters", "a valid BasicAuthPassword (A00.FR.205)")


@pytest.mark.octt("TC_A_09_CS")
async def test_update_password_accepted(cs: Cs):
    """TC_A_09_CS: SetVariables SecurityCtrlr.BasicAuthPassword with a new password: Accepted
    or RebootRequired (A01.FR.01); from then on only the new one is admitted (A01.FR.03). The
    station's next connection (after the OCTT's Reset: part 6 reboots it for RebootRequired
    and a station may keep its connection otherwise) carries the new password."""
    old = _need_basic_auth(cs)
    new = "CB" + secrets.token_hex(12)  # 26 characters, A01.FR.07 random
    cs.central.password = new  # the station may reconnect before the response is read
    try:
        await cs.ask("SetVariables", {"setVariableData": [{
            "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
            "attributeValue": new}]}, {"setVariableResult": [
                {"attributeStatus": one_of("Accepted", "RebootRequired")}]})
    except BaseException:
        cs.central.password = old  # A01.FR.04: not changed, the old one stays
        raise
    await booted(cs, "OnIdle")
    _admitted_with(cs, new)


@pytest.mark.octt("TC_A_10_CS")
async def test_update_password_rejected(cs: Cs):
    """TC_A_10_CS: a BasicAuthPassword of fewer than 16 characters: Rejected; after Reusable
    State Booted the station connects with the old password (A01.FR.04)."""
    old = _need_basic_auth(cs)
    await cs.ask("SetVariables", {"setVariableData": [{
        "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
        "attributeValue": "short-pass-01"}]}, {"setVariableResult": [
            {"attributeStatus": "Rejected"}]})
    await booted(cs)
    _admitted_with(cs, old)


@pytest.mark.octt("TC_A_22_CS")
@pytest.mark.cb_requires("OCPPCommCtrlr", "NetworkConfigurationPriority")
async def test_downgrade_rejected(cs: Cs):
    """TC_A_22_CS: SetNetworkProfile with a security profile lower than the one in use:
    Rejected (B09.FR.04)."""
    current = _active_profile(cs)
    if current < 1:
        pytest.skip("not applicable: the station connected with security profile 0, nothing "
                    "is lower")
    used = [int(s) for s in (cs.var("OCPPCommCtrlr", "NetworkConfigurationPriority") or ""
                             ).split(",") if s.strip().isdigit()]
    slot = max(used, default=0) + 1
    await cs.ask("SetNetworkProfile", {"configurationSlot": slot, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON",
        "ocppCsmsUrl": cs.central.endpoint.replace("wss://", "ws://"), "messageTimeout": 30,
        "securityProfile": current - 1, "ocppInterface": "Wired0"}}, {"status": "Rejected"})


@pytest.mark.octt("TC_B_43_CS")
async def test_network_profile_invalid_slot_rejected(cs: Cs):
    """TC_B_43_CS: SetNetworkProfile into configurationSlot 999, otherwise the connection
    data in use (this CSMS's URL, the active security profile): Rejected (B09.FR.02; a slot
    outside NetworkConfigurationPriority's valuesList: B09.FR.05). A station whose
    valuesList holds slot 999 is not applicable."""
    values = cs.model.values("OCPPCommCtrlr", "NetworkConfigurationPriority")
    if any("999" in v.replace(" ", "").split(",") for v in values):
        pytest.skip("not applicable: slot 999 is in use")
    url = cs.central.endpoint
    if _active_profile(cs) < 2:
        url = url.replace("wss://", "ws://")
    await cs.ask("SetNetworkProfile", {"configurationSlot": 999, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url,
        "messageTimeout": 30, "securityProfile": _active_profile(cs),
        "ocppInterface": "Wired0"}}, {"status": "Rejected"})
