"""OCPP 2.0.1 part 6 §3.2, A Security, with a CSMS under test: the connection at the run's
security profile (A00), the Basic-auth password the CSMS changes (A01) and the station
certificate it renews (A02). A case for another security profile than the run's is not
applicable, with the reason (run again with --cb-security-profile, or `--self-profile`)."""

from __future__ import annotations

import secrets
import string

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from chargebench.security import basic_auth_header, client_ssl_context
from conformance.chargepoint import at
from conformance.endpoints import probe_handshake
from conformance.settings import Settings
from conformance.summary import NOT_APPLICABLE
from conformance.v201.station import Station, absent_or
from conformance.v201.station_certificates import renew_station_certificate

PASSWORD = ("SecurityCtrlr", "BasicAuthPassword")


def needs_profile(cb: Settings, *levels: int) -> None:
    """Part 6's prerequisite "The CSMS supports security profile ...": the run's profile."""
    if cb.security_profile not in levels:
        pytest.skip(f"{NOT_APPLICABLE}: needs security profile "
                    f"{' or '.join(map(str, levels))}; this run uses {cb.security_profile}")


def new_password() -> str:
    """A passwordString of 16-40 characters (A00.FR.205), high entropy (A01.FR.01): 20 letters
    and digits, which a station that also speaks 1.6 can keep as its AuthorizationKey too."""
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(20))


@pytest.mark.octt("TC_A_01_CSMS")
async def test_basic_auth_valid(cs: Station):
    """TC_A_01_CSMS: with the configured password (the fixture's connection) the CSMS upgrades
    and accepts the BootNotification (A00.FR.204, B01.FR.02)."""
    needs_profile(cs.cb, 1, 2)
    await cs.boot()


async def _other_username(cb: Settings) -> str | None:
    """Open the connection as `--cb-cp-id` with the configured password under another
    username (A00.FR.203: it must be the ChargingStationId); None when the CSMS refused the
    upgrade, else what happened instead."""
    ssl_context = None
    if (cb.target or "").startswith("wss"):
        assert cb.ca is not None, "a wss:// target needs --cb-ca"
        ssl_context = client_ssl_context(cb.ca, None, None)
    header = basic_auth_header(f"{cb.cp_id}Invalid", cb.password_for(cb.cp_id) or "")
    try:
        ws = await ws_connect(cb.url_for(cb.cp_id), subprotocols=[Subprotocol("ocpp2.0.1")],
                              compression=None, proxy=None, open_timeout=cb.timeout,
                              ssl=ssl_context, additional_headers={"Authorization": header})
    except (InvalidStatus, InvalidHandshake, OSError, TimeoutError):
        return None
    await ws.close()
    return f"the CSMS upgraded the connection (subprotocol {ws.subprotocol})"


@pytest.mark.octt("TC_A_02_CSMS")
async def test_basic_auth_other_username(cs: Station):
    """TC_A_02_CSMS: the configured password under the username <ChargingStationId>Invalid:
    the CSMS refuses the upgrade (A00.FR.203)."""
    needs_profile(cs.cb, 1, 2)
    upgraded = await _other_username(cs.cb)
    assert upgraded is None, f"expected the upgrade refused; {upgraded}"


@pytest.mark.octt("TC_A_03_CSMS")
async def test_basic_auth_invalid_password(cs: Station):
    """TC_A_03_CSMS: a random password of 16-40 characters: the CSMS refuses the upgrade
    (any refusal: an HTTP status, or the connection ended)."""
    needs_profile(cs.cb, 1, 2)
    outcome = await probe_handshake(cs.cb, subprotocols=("ocpp2.0.1",), password=new_password())
    assert outcome.status is not None or outcome.error is not None, (
        f"expected the upgrade refused; received: {outcome.describe()}")


@pytest.mark.parametrize("levels", [
    pytest.param((2, 3), id="TC_A_04_CSMS", marks=pytest.mark.octt("TC_A_04_CSMS")),
    pytest.param((3,), id="TC_A_07_CSMS", marks=pytest.mark.octt("TC_A_07_CSMS")),
])
async def test_tls_connection(cs: Station, levels: tuple[int, ...]):
    """TC_A_04/07_CSMS: over TLS (with our client certificate at profile 3) the CSMS
    upgrades the connection, at TLS 1.2 or above, and accepts the BootNotification."""
    needs_profile(cs.cb, *levels)
    transport = getattr(cs.peer.ws, "transport", None)
    ssl_object = transport.get_extra_info("ssl_object") if transport else None
    assert ssl_object is not None, "expected a TLS connection (wss://)"
    assert ssl_object.version() in ("TLSv1.2", "TLSv1.3"), ssl_object.version()
    await cs.boot()


@pytest.mark.octt("TC_A_08_CSMS")
async def test_tls_invalid_client_certificate(cs: Station):
    """TC_A_08_CSMS: a client certificate from an unknown CA ends the TLS handshake."""
    needs_profile(cs.cb, 3)
    if cs.cb.invalid_cert is None:
        pytest.skip("needs --cb-invalid-cert (see `chargebench pki init`)")
    outcome = await probe_handshake(cs.cb, subprotocols=("ocpp2.0.1",),
                                    cert=cs.cb.invalid_cert, key=cs.cb.invalid_key)
    assert outcome.violation is None and (outcome.error or outcome.status), (
        f"expected the TLS handshake to fail; received: {outcome.describe()}")


@pytest.mark.parametrize("answer", [
    pytest.param("Accepted", id="TC_A_09_CSMS", marks=pytest.mark.octt("TC_A_09_CSMS")),
    pytest.param("Rejected", id="TC_A_10_CSMS", marks=pytest.mark.octt("TC_A_10_CSMS")),
])
async def test_update_password(cs: Station, answer: str):
    """TC_A_09/10_CSMS: SetVariables SecurityCtrlr.BasicAuthPassword with a new password
    (A01.FR.01); Accepted: the station reconnects with the new one and the CSMS admits it
    (A01.FR.03); Rejected: with the old one, still admitted (A01.FR.04). The new password is
    the station's for the rest of the run."""
    needs_profile(cs.cb, 1, 2)
    await cs.boot()
    password = new_password()
    request = {"setVariableData": [{"component": {"name": PASSWORD[0]},
                                    "variable": {"name": PASSWORD[1]},
                                    "attributeValue": password}]}

    def reply(payload: dict) -> dict:
        return {"setVariableResult": [{"attributeStatus": answer, "component": item["component"],
                                       "variable": item["variable"]}
                                      for item in payload["setVariableData"]]}

    await cs.command("SetVariables", request, reply, {"setVariableData": [
        {"component": {"name": PASSWORD[0]}, "variable": {"name": PASSWORD[1]},
         "attributeType": absent_or("Actual")}]})
    if answer == "Accepted":
        cs.cb.changed_keys[cs.peer.cp_id] = password
    await cs.reconnect()
    await cs.boot()


@pytest.mark.parametrize("answer", [
    pytest.param("Accepted", id="TC_A_11_CSMS", marks=pytest.mark.octt("TC_A_11_CSMS")),
    pytest.param("Rejected", id="TC_A_14_CSMS", marks=pytest.mark.octt("TC_A_14_CSMS")),
])
async def test_renew_station_certificate(cs: Station, answer: str):
    """TC_A_11/14_CSMS: RenewChargingStationCertificate; the station accepts the signed
    certificate, or rejects it as invalid and reports InvalidChargingStationCertificate."""
    needs_profile(cs.cb, 3)
    await cs.boot()
    await renew_station_certificate(cs, answer)
    if answer == "Rejected":
        await cs.ask("SecurityEventNotification", {
            "type": "InvalidChargingStationCertificate", "timestamp": at()})
    await cs.still_serving()
