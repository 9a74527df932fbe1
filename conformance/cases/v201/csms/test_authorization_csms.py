"""OCPP 2.0.1 part 6 §3.4, C Authorization, with a CSMS under test: the CSMS's verdict on
the configured tokens (C01), by Authorize and in a TransactionEvent (C12), and the cache
command (C11)."""

from __future__ import annotations

import pytest

from conformance.chargepoint import Command, params
from conformance.expect import one_of
from conformance.v201.station import Station


@pytest.mark.parametrize("kind, allowed", [
    pytest.param("invalid", ("Invalid", "Unknown"), id="TC_C_02_CSMS",
                 marks=pytest.mark.octt("TC_C_02_CSMS")),
    # part 6 Table 484 reads "Linked or Invalid" for the blocked token; Linked is no
    # AuthorizationStatusEnumType value: the case's title (AuthorizationBlocked) and C01.FR.07
    # make it Blocked
    pytest.param("blocked", ("Blocked", "Invalid"), id="TC_C_06_CSMS",
                 marks=pytest.mark.octt("TC_C_06_CSMS")),
    pytest.param("expired", ("Expired", "Invalid"), id="TC_C_07_CSMS",
                 marks=pytest.mark.octt("TC_C_07_CSMS")),
])
async def test_local_start_refused(cs: Station, kind: str, allowed: tuple[str, ...]):
    """TC_C_02/06/07_CSMS: Authorize with the invalid, blocked or expired token is answered
    with one of the statuses part 6 allows for it, never Accepted (C01.FR.07)."""
    await cs.boot()
    token = {"invalid": cs.invalid_token(), "blocked": cs.blocked_token,
             "expired": cs.expired_token}[kind]
    await cs.authorize(token, one_of(*allowed))


@pytest.mark.parametrize("valid", [
    pytest.param(True, id="TC_C_08_CSMS", marks=pytest.mark.octt("TC_C_08_CSMS")),
    pytest.param(False, id="TC_C_20_CSMS", marks=pytest.mark.octt("TC_C_20_CSMS")),
])
async def test_authorization_cache(cs: Station, valid: bool):
    """TC_C_08/20_CSMS: after EVConnectedPreSession, a token from the station's cache is sent
    in TransactionEvent Authorized without an Authorize first; the CSMS judges it there:
    Accepted for the valid one, Invalid or Unknown for an invalid one (C12.FR.03)."""
    await cs.boot()
    await cs.ev_connected_pre_session()
    token = cs.valid_token if valid else cs.invalid_token()
    status = "Accepted" if valid else one_of("Invalid", "Unknown")
    await cs.event("Updated", "Authorized", token=token,
                   expect={"idTokenInfo": {"status": status}})
    if not valid:  # the station ends the transaction it may not run (E06.FR.04)
        await cs.event("Ended", "Deauthorized", stopped_reason="DeAuthorized")


COMMANDS = [
    # C11 Clear Authorization Data in Authorization Cache
    Command("TC_C_37_CSMS", "ClearCache", {}, {"status": "Accepted"}),
    Command("TC_C_38_CSMS", "ClearCache", {}, {"status": "Rejected"}),
]


@pytest.mark.parametrize("command", params(COMMANDS))
async def test_command(cs: Station, command: Command):
    """TC_C_37/38_CSMS: the CSMS sends ClearCacheRequest and takes either answer."""
    await command.run(cs)  # type: ignore[arg-type]  # Station speaks ChargePoint's protocol
