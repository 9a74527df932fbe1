"""OCPP 2.0.1 part 6 §2.4, C Authorization, with a Charging Station under test."""

from __future__ import annotations

import pytest

from conformance.v201.central import token
from conformance.v201.states import (
    Cs,
    authorized,
    charging,
    energy_transfer_started,
    ev_connected_pre_session,
    id_token_cached,
)

#: <Configured invalid/blocked/expired idToken>: idTokens only this run's CSMS judges
OTHER = "CB-OTHER-1"
AUTH_CACHE = pytest.mark.cb_requires("AuthCacheCtrlr")


async def _no_authorized_event(cs: Cs, idtoken: dict, since: int,
                               during: float = 1.0) -> None:
    """"The Charging Station SHALL NOT send a TransactionEventRequest message after the
    AuthorizationRequest" (its Updated/Started for the refused idToken: periodic meter values
    of a running transaction are no answer to it)."""
    with_token = [f for f in cs.peer.log[since:] if f.type == "CALL"
                  and f.action == "TransactionEvent"
                  and f.dir == cs.peer.incoming_dir
                  and (f.payload or {}).get("idToken") == idtoken]
    if with_token:
        from conformance.expect import failure

        raise failure("no TransactionEventRequest for the refused idToken", with_token, None)
    await cs.peer.expect_nothing(
        lambda f: f.type == "CALL" and f.action == "TransactionEvent" and (
            (f.payload or {}).get("idToken") == idtoken
            or (f.payload or {}).get("triggerReason") == "Authorized"
            or (f.payload or {}).get("eventType") == "Started"),
        during=during, what=f"TransactionEventRequest for {idtoken['idToken']}")


async def _refused(cs: Cs, status: str) -> None:
    """EVConnectedPreSession; an idToken the CSMS answers `status`: AuthorizeRequest with it,
    no transaction for it (C01.FR.?, E02.FR.20 note)."""
    bad = token(f"{OTHER}-{status.upper()}")
    cs.central.tokens[bad["idToken"]] = status
    await ev_connected_pre_session(cs)
    since = len(cs.peer.log)
    await cs.act("present_id_tag", tag=bad["idToken"], connector=cs.connector_id)
    await cs.expect("Authorize", {"idToken": bad})
    await _no_authorized_event(cs, bad, since)


@pytest.mark.octt("TC_C_02_CS")
async def test_local_start_invalid(cs: Cs):
    """TC_C_02_CS: an Invalid idToken starts nothing."""
    await _refused(cs, "Invalid")


@pytest.mark.octt("TC_C_06_CS")
async def test_local_start_blocked(cs: Cs):
    """TC_C_06_CS: a Blocked idToken starts nothing."""
    await _refused(cs, "Blocked")


@pytest.mark.octt("TC_C_07_CS")
async def test_local_start_expired(cs: Cs):
    """TC_C_07_CS: an Expired idToken starts nothing."""
    await _refused(cs, "Expired")


@pytest.mark.octt("TC_C_56_CS")
async def test_local_start_unknown(cs: Cs):
    """TC_C_56_CS: an Unknown idToken starts nothing."""
    await _refused(cs, "Unknown")


@pytest.mark.octt("TC_C_04_CS")
async def test_local_stop_different_token(cs: Cs):
    """TC_C_04_CS: during a transaction another idToken (Accepted, no common GroupId) is
    presented: AuthorizeRequest, but no TransactionEventRequest with it and no Ended
    (C01.FR.?: only the starting idToken, or its group, stops it)."""
    await charging(cs)
    other = token(f"{OTHER}-DIFFERENT")
    await cs.act("present_id_tag", tag=other["idToken"], connector=cs.connector_id)
    await cs.expect("Authorize", {"idToken": other})
    await cs.peer.expect_nothing(
        lambda f: f.type == "CALL" and f.action == "TransactionEvent" and (
            (f.payload or {}).get("idToken") == other
            or (f.payload or {}).get("eventType") == "Ended"),
        during=1.0, what="TransactionEventRequest with the other idToken, or Ended")


@pytest.mark.octt("TC_C_08_CS")
@AUTH_CACHE
async def test_cache_accepted(cs: Cs):
    """TC_C_08_CS: LocalPreAuthorize, the idToken cached Accepted: EVConnectedPreSession,
    Authorized (an AuthorizeRequest may be skipped: C12.FR.02), EnergyTransferStarted."""
    await cs.configure("AuthCacheCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "true")
    await id_token_cached(cs)
    await ev_connected_pre_session(cs)
    await authorized(cs)
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_C_37_CS")
@AUTH_CACHE
async def test_clear_cache_accepted(cs: Cs):
    """TC_C_37_CS: ClearCache Accepted (C11.FR.02); the cached idToken must be asked about
    again: AuthorizeRequest, then the transaction."""
    await cs.configure("AuthCacheCtrlr", "Enabled", "true")
    await id_token_cached(cs)
    await cs.ask("ClearCache", {}, {"status": "Accepted"})
    start = len(cs.peer.log)
    await ev_connected_pre_session(cs)
    await authorized(cs)
    if not [f for f in cs.peer.log[start:] if f.type == "CALL" and f.action == "Authorize"]:
        await cs.expect("Authorize", {"idToken": cs.valid})
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_C_38_CS")
@AUTH_CACHE
async def test_clear_cache_rejected(cs: Cs):
    """TC_C_38_CS: the cache disabled: ClearCache Rejected (C11.FR.04)."""
    await id_token_cached(cs)
    if not await cs.configure("AuthCacheCtrlr", "Enabled", "false"):
        pytest.skip("not applicable: AuthCacheCtrlr.Enabled cannot be set false")
    await cs.ask("ClearCache", {}, {"status": "Rejected"})


@pytest.mark.octt("TC_C_36_CS")
@AUTH_CACHE
async def test_cache_no_local_pre_authorize(cs: Cs):
    """TC_C_36_CS: LocalPreAuthorize false: a cached idToken is still sent in an
    AuthorizeRequest (C12.FR.?); the CSMS now says Invalid: nothing starts."""
    await cs.configure("AuthCacheCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "false")
    await id_token_cached(cs)
    cs.central.tokens[cs.valid["idToken"]] = "Invalid"
    since = len(cs.peer.log)
    await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
    await cs.expect("Authorize", {"idToken": cs.valid})
    await _no_authorized_event(cs, cs.valid, since)
