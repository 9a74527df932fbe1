"""OCPP 2.0.1 part 6 §2.4, C Authorization, with a Charging Station under test."""

from __future__ import annotations

import pytest

from conformance.casesteps import step
from conformance.expect import failure
from conformance.v201.central import token
from conformance.v201.states import (
    Cs,
    authorized,
    booted,
    charging,
    energy_transfer_started,
    ev_connected_pre_session,
    ev_disconnected,
    id_token_cached,
    id_token_local_auth_list,
    next_id,
    transaction_event,
)
from conformance.v201.states_bceh import QueuedEvents, go_offline, go_online, station_sleep

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


# Offline authorization through the Local Authorization List (C13, C14) ----------------------


async def _offline_configuration(cs: Cs, *, unknown: str = "false") -> None:
    """Configuration State of TC_C_21..25: LocalAuthListEnabled, LocalPreAuthorize true (If
    implemented), OfflineTxForUnknownIdEnabled `unknown` (If implemented),
    LocalAuthorizeOffline true (a station that keeps it false is not applicable)."""
    await cs.configure("LocalAuthListCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "true")
    await cs.configure("AuthCtrlr", "OfflineTxForUnknownIdEnabled", unknown)
    if not await cs.configure("AuthCtrlr", "LocalAuthorizeOffline", "true"):
        pytest.skip("not applicable: AuthCtrlr.LocalAuthorizeOffline is not true "
                    f"({cs.var('AuthCtrlr', 'LocalAuthorizeOffline')!r})")
    if "ParkingBayOccupancy" in cs.points("TxStartPoint"):
        pytest.skip("not implemented: TxStartPoint ParkingBayOccupancy (the EV driving into "
                    "the parking bay)")


@pytest.mark.octt("TC_C_21_CS")
async def test_offline_local_list_accepted(cs: Cs):
    """TC_C_21_CS: the idToken Accepted on the Local Authorization List; offline it starts a
    transaction (StartOfflineTransaction: C13.FR.01); back online, presented again and the
    cable out: the events generated offline have offline true, one StopAuthorized."""
    await _offline_configuration(cs)
    await id_token_local_auth_list(cs)
    await go_offline(cs)
    await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
    await cs.act("plug_in", connector=cs.connector_id)
    back = await go_online(cs)
    await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
    await cs.act("plug_out", connector=cs.connector_id)
    await cs.expect("TransactionEvent", transaction_event(triggerReason="StopAuthorized"))
    queued = QueuedEvents(cs, back)
    await queued.collect()
    queued.check(types=("Started",))
    cs.check_sequence()


async def _offline_refused(cs: Cs, status: str) -> None:
    """TC_C_22/23/24: an idToken `status` on the Local Authorization List, presented offline:
    no transaction for it (C13.FR.01: only Accepted ones start); whatever the station
    queued has offline true and none carries the idToken."""
    bad = token(f"{OTHER}-LIST-{status.upper()}")
    await _offline_configuration(cs)
    await id_token_local_auth_list(cs, [{"idToken": bad, "idTokenInfo": {"status": status}}])
    await go_offline(cs)
    await cs.act("present_id_tag", tag=bad["idToken"], connector=cs.connector_id)
    back = await go_online(cs)
    queued = QueuedEvents(cs, back)
    await queued.collect(patience=2.0)
    if queued.events:
        queued.check()
    for event in queued.events:
        if event.get("idToken") == bad or event.get("triggerReason") == "Authorized":
            raise failure(f"no transaction for the {status} idToken", cs.frames(
                "TransactionEvent"), None)


@pytest.mark.octt("TC_C_22_CS")
async def test_offline_local_list_invalid(cs: Cs):
    """TC_C_22_CS: an Invalid idToken of the local list starts nothing offline."""
    await _offline_refused(cs, "Invalid")


@pytest.mark.octt("TC_C_23_CS")
async def test_offline_local_list_blocked(cs: Cs):
    """TC_C_23_CS: a Blocked idToken of the local list starts nothing offline."""
    await _offline_refused(cs, "Blocked")


@pytest.mark.octt("TC_C_24_CS")
async def test_offline_local_list_expired(cs: Cs):
    """TC_C_24_CS: an Expired idToken of the local list starts nothing offline."""
    await _offline_refused(cs, "Expired")


@pytest.mark.octt("TC_C_25_CS")
@AUTH_CACHE
@pytest.mark.cb_requires("AuthCtrlr", "OfflineTxForUnknownIdEnabled")
async def test_offline_local_list_outranks_cache(cs: Cs):
    """TC_C_25_CS: the idToken cached Accepted but Invalid on the local list, unknown
    idTokens allowed offline: presented offline it starts nothing (the list outranks the
    cache, C14.FR.03); MeterValues are allowed."""
    await _offline_configuration(cs, unknown="true")
    await cs.configure("AuthCacheCtrlr", "Enabled", "true")
    await cs.configure("TxCtrlr", "StopTxOnInvalidId", "false")
    await id_token_cached(cs)
    try:
        await id_token_local_auth_list(cs, [{"idToken": cs.valid,
                                             "idTokenInfo": {"status": "Invalid"}}])
        await ev_connected_pre_session(cs)
        await go_offline(cs)
        await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
        back = await go_online(cs)
        queued = QueuedEvents(cs, back)
        await queued.collect(patience=2.0)
        for event in queued.events:
            if event.get("idToken") == cs.valid or event.get("triggerReason") == "Authorized":
                raise failure("no transaction for the idToken Invalid on the local list",
                              cs.frames("TransactionEvent"), None)
    finally:  # the valid idToken must not stay Invalid for the cases after
        if not cs.offline:  # D01: a Full update without a list empties it
            await cs.ask("SendLocalList", {"versionNumber": next_id(), "updateType": "Full"},
                         {"status": "Accepted"})


# Authorization by GroupId (C09) ----------------------------------------------------------------

#: <Configured groupIdToken>
GROUP = token("CB-GROUP-C", "Central")


@pytest.mark.octt("TC_C_39_CS")
async def test_group_id_stops(cs: Cs):
    """TC_C_39_CS: the transaction started by an idToken of a group; another valid idToken
    of the same group (the CSMS says so) presented: AuthorizeRequest with it, then the
    transaction is stopped by it (StopAuthorized: C09.FR.03/04, E07)."""
    other = token(f"{OTHER}-SAME-GROUP")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "false")
    for idtoken in (cs.valid, other):
        cs.central.token_info[idtoken["idToken"]] = {"groupIdToken": GROUP}
    await ev_connected_pre_session(cs)
    await authorized(cs)
    await energy_transfer_started(cs)
    await cs.act("present_id_tag", tag=other["idToken"], connector=cs.connector_id)
    await cs.expect("Authorize", {"idToken": other})
    await cs.expect("TransactionEvent", transaction_event(
        triggerReason="StopAuthorized", transactionId=cs.tx_id))


@pytest.mark.octt("TC_C_42_CS")
async def test_group_id_invalid_does_not_stop(cs: Cs):
    """TC_C_42_CS: an idToken of the same group that the CSMS says Invalid stops nothing:
    AuthorizeRequest, then no TransactionEventRequest for it (C09.FR.?, C01)."""
    other = token(f"{OTHER}-GROUP-INVALID")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "false")
    cs.central.token_info[cs.valid["idToken"]] = {"groupIdToken": GROUP}
    cs.central.token_info[other["idToken"]] = {"groupIdToken": GROUP}
    cs.central.tokens[other["idToken"]] = "Invalid"
    await ev_connected_pre_session(cs)
    await authorized(cs)
    await energy_transfer_started(cs)
    since = len(cs.peer.log)
    await cs.act("present_id_tag", tag=other["idToken"], connector=cs.connector_id)
    await cs.expect("Authorize", {"idToken": other})
    await _no_authorized_event(cs, other, since)
    await cs.peer.expect_nothing(
        lambda f: f.type == "CALL" and f.action == "TransactionEvent"
        and (f.payload or {}).get("triggerReason") == "StopAuthorized",
        during=1.0, what="TransactionEventRequest StopAuthorized")


# Authorization through the Authorization Cache (C12) ---------------------------------------


async def _cache_configuration(cs: Cs) -> None:
    """Configuration State of TC_C_09..13: AuthCacheCtrlr.Enabled, LocalPreAuthorize true,
    DisablePostAuthorize false (If implemented)."""
    await cs.configure("AuthCacheCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "true")
    await cs.configure("AuthCacheCtrlr", "DisablePostAuthorize", "false")


async def _cached_not_accepted(cs: Cs, idtoken: dict, status: str) -> None:
    """Memory State IdTokenCached, main B (Table 443: the idToken not Accepted): presented,
    the CSMS answers `status` (which the cache keeps, C10.FR.04); no transaction for it."""
    with step(f"Memory State IdTokenCached ({status})"):
        cs.central.tokens[idtoken["idToken"]] = status
        since = len(cs.peer.log)
        await cs.act("present_id_tag", tag=idtoken["idToken"], connector=cs.connector_id)
        await cs.expect("Authorize", {"idToken": idtoken})
        await _no_authorized_event(cs, idtoken, since, during=0.5)


async def _cache_refused(cs: Cs, status: str) -> None:
    """TC_C_09/10/11: an idToken cached `status`, presented with LocalPreAuthorize: the
    station must ask (a cached non-Accepted idToken is not authorized locally: C12.FR.?),
    the CSMS says `status` again: no transaction for it."""
    bad = token(f"{OTHER}-CACHED-{status.upper()}")
    await _cache_configuration(cs)
    await _cached_not_accepted(cs, bad, status)
    await ev_connected_pre_session(cs)
    since = len(cs.peer.log)
    await cs.act("present_id_tag", tag=bad["idToken"], connector=cs.connector_id)
    await cs.expect("Authorize", {"idToken": bad})
    await _no_authorized_event(cs, bad, since)


@pytest.mark.octt("TC_C_09_CS")
@AUTH_CACHE
async def test_cache_invalid(cs: Cs):
    """TC_C_09_CS: an idToken cached Invalid: AuthorizeRequest, Invalid, nothing starts."""
    await _cache_refused(cs, "Invalid")


@pytest.mark.octt("TC_C_10_CS")
@AUTH_CACHE
async def test_cache_blocked(cs: Cs):
    """TC_C_10_CS: an idToken cached Blocked (part 6 names the response "Restricted", which
    AuthorizationStatusEnumType does not have; its tool validation names the blocked
    idToken): AuthorizeRequest, Blocked, nothing starts."""
    await _cache_refused(cs, "Blocked")


@pytest.mark.octt("TC_C_11_CS")
@AUTH_CACHE
async def test_cache_expired(cs: Cs):
    """TC_C_11_CS: an idToken cached Expired: AuthorizeRequest, Expired, nothing starts."""
    await _cache_refused(cs, "Expired")


@pytest.mark.octt("TC_C_12_CS")
@AUTH_CACHE
async def test_cache_invalid_now_accepted(cs: Cs):
    """TC_C_12_CS: an idToken cached Invalid that the CSMS now accepts: AuthorizeRequest
    (the cache does not authorize it), Accepted, the energy transfer starts."""
    idtoken = token(f"{OTHER}-CACHED-NOW-VALID")
    await _cache_configuration(cs)
    await _cached_not_accepted(cs, idtoken, "Invalid")
    cs.central.tokens[idtoken["idToken"]] = "Accepted"
    await ev_connected_pre_session(cs)
    start = len(cs.peer.log)
    await authorized(cs, idtoken=idtoken)
    if not [f for f in cs.peer.log[start:] if f.type == "CALL" and f.action == "Authorize"]:
        await cs.expect("Authorize", {"idToken": idtoken})
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_C_13_CS")
@AUTH_CACHE
async def test_cache_accepted_cable_later(cs: Cs):
    """TC_C_13_CS: the idToken cached Accepted, presented before the cable: the
    TransactionEventRequest Authorized with it (when TxStartPoint contains Authorized; an
    AuthorizeRequest may be skipped: C12.FR.02), then EVConnectedPreSession and the energy
    transfer."""
    await _cache_configuration(cs)
    await id_token_cached(cs)
    await authorized(cs)
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_C_32_CS")
@AUTH_CACHE
async def test_cache_persists_over_reboot(cs: Cs):
    """TC_C_32_CS: the idToken cached, the station rebooted (Reusable State Booted); presented
    again: TransactionEventRequest Authorized with it (C10.FR.?: the cache survives a
    reboot), then the energy transfer."""
    await cs.configure("AuthCacheCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "true")
    await id_token_cached(cs)
    await booted(cs)
    await authorized(cs)
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_C_34_CS")
@AUTH_CACHE
async def test_cache_updated_by_transaction_response(cs: Cs):
    """TC_C_34_CS: the idToken cached Accepted; the TransactionEventResponse to its
    Authorized event says Invalid: the cache takes it (C10.FR.04/05), so next time the
    station asks (AuthorizeRequest), Invalid."""
    await cs.configure("AuthCacheCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "true")
    await cs.configure("LocalAuthListCtrlr", "Enabled", "true")
    await id_token_cached(cs)
    cs.central.tokens[cs.valid["idToken"]] = "Invalid"
    await ev_connected_pre_session(cs)
    await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
    await cs.expect("TransactionEvent", transaction_event(triggerReason="Authorized",
                                                          idToken=cs.valid))
    await ev_disconnected(cs)
    cs.tx_id, cs.authorized = None, False
    cs.start = len(cs.peer.log)
    await ev_connected_pre_session(cs)
    since = len(cs.peer.log)
    await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
    await cs.expect("Authorize", {"idToken": cs.valid})
    await _no_authorized_event(cs, cs.valid, since)


@pytest.mark.octt("TC_C_57_CS")
@AUTH_CACHE
@pytest.mark.cb_requires("AuthCacheCtrlr", "DisablePostAuthorize")
async def test_cache_disable_post_authorize(cs: Cs):
    """TC_C_57_CS: DisablePostAuthorize true: an idToken cached Invalid is refused without an
    AuthorizeRequest (appendix 3 AuthCacheCtrlr: C10.FR.03/C12.FR.05 disabled), nothing
    starts."""
    bad = token(f"{OTHER}-CACHED-NO-POST")
    await _cache_configuration(cs)
    await _cached_not_accepted(cs, bad, "Invalid")
    if not await cs.configure("AuthCacheCtrlr", "DisablePostAuthorize", "true"):
        pytest.skip("not applicable: AuthCacheCtrlr.DisablePostAuthorize cannot be set true")
    await ev_connected_pre_session(cs)
    since = len(cs.peer.log)
    await cs.act("present_id_tag", tag=bad["idToken"], connector=cs.connector_id)
    await cs.peer.expect_nothing(
        lambda f: f.type == "CALL" and f.action == "Authorize", during=1.0,
        what="AuthorizeRequest")
    await _no_authorized_event(cs, bad, since, during=0.2)


@pytest.mark.octt("TC_C_46_CS")
@AUTH_CACHE
@pytest.mark.cb_requires("AuthCacheCtrlr", "LifeTime")
async def test_cache_lifetime(cs: Cs):
    """TC_C_46_CS: AuthCacheCtrlr.LifeTime the transaction duration; the idToken cached;
    after that time it is authorized again (Reusable State Authorized, local: an expired
    entry is asked about again, C10.FR.08/10)."""
    lifetime = 5
    if not await cs.configure("AuthCacheCtrlr", "LifeTime", str(lifetime)):
        pytest.skip("not applicable: AuthCacheCtrlr.LifeTime cannot be set")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "true")
    await id_token_cached(cs)
    await ev_connected_pre_session(cs)
    await station_sleep(cs, lifetime + 1, limit=lifetime + 3)
    await authorized(cs)


# Online authorization through the Local Authorization List (C14) ----------------------------

LOCAL_LIST = pytest.mark.cb_requires("LocalAuthListCtrlr")


async def _list_configuration(cs: Cs) -> None:
    """Configuration State of TC_C_27..31: LocalAuthListEnabled, LocalPreAuthorize true,
    LocalAuthListCtrlr.DisablePostAuthorize false (If implemented)."""
    await cs.configure("LocalAuthListCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "true")
    await cs.configure("LocalAuthListCtrlr", "DisablePostAuthorize", "false")


@pytest.mark.octt("TC_C_27_CS")
@LOCAL_LIST
async def test_local_list_accepted(cs: Cs):
    """TC_C_27_CS: the idToken Accepted on the local list: Reusable State Authorized (an
    AuthorizeRequest may be skipped: C14.FR.02), EVConnectedPreSession, the energy
    transfer."""
    await _list_configuration(cs)
    await id_token_local_auth_list(cs)
    await authorized(cs)
    await energy_transfer_started(cs)


async def _list_refused(cs: Cs, status: str) -> None:
    """TC_C_28/29/30: an idToken `status` on the local list, presented online: the station
    asks (C14.FR.03: not Accepted locally), the CSMS says `status`: nothing starts."""
    bad = token(f"{OTHER}-LISTED-{status.upper()}")
    await _list_configuration(cs)
    await id_token_local_auth_list(cs, [{"idToken": bad, "idTokenInfo": {"status": status}}])
    cs.central.tokens[bad["idToken"]] = status
    since = len(cs.peer.log)
    await cs.act("present_id_tag", tag=bad["idToken"], connector=cs.connector_id)
    await cs.expect("Authorize", {"idToken": bad})
    await _no_authorized_event(cs, bad, since)


@pytest.mark.octt("TC_C_28_CS")
@LOCAL_LIST
async def test_local_list_invalid(cs: Cs):
    """TC_C_28_CS: an idToken Invalid on the local list: AuthorizeRequest, Invalid."""
    await _list_refused(cs, "Invalid")


@pytest.mark.octt("TC_C_29_CS")
@LOCAL_LIST
async def test_local_list_blocked(cs: Cs):
    """TC_C_29_CS ("Restricted": AuthorizationStatusEnumType has no such status; Blocked):
    AuthorizeRequest, Blocked, nothing starts."""
    await _list_refused(cs, "Blocked")


@pytest.mark.octt("TC_C_30_CS")
@LOCAL_LIST
async def test_local_list_expired(cs: Cs):
    """TC_C_30_CS: an idToken Expired on the local list: AuthorizeRequest, Expired."""
    await _list_refused(cs, "Expired")


@pytest.mark.octt("TC_C_31_CS")
@LOCAL_LIST
async def test_local_list_invalid_now_accepted(cs: Cs):
    """TC_C_31_CS: an idToken Invalid on the local list that the CSMS accepts: Reusable
    State Authorized with it (the station asks), EVConnectedPreSession, the energy
    transfer."""
    idtoken = token(f"{OTHER}-LISTED-NOW-VALID")
    await _list_configuration(cs)
    await id_token_local_auth_list(cs, [{"idToken": idtoken,
                                         "idTokenInfo": {"status": "Invalid"}}])
    start = len(cs.peer.log)
    await authorized(cs, idtoken=idtoken)
    if not [f for f in cs.peer.log[start:] if f.type == "CALL" and f.action == "Authorize"]:
        await cs.expect("Authorize", {"idToken": idtoken})
    await energy_transfer_started(cs)


@pytest.mark.octt("TC_C_16_CS")
@AUTH_CACHE
@pytest.mark.cb_requires("TxCtrlr", "StopTxOnInvalidId")
async def test_cache_offline_invalid_stops(cs: Cs):
    """TC_C_16_CS: the idToken cached Accepted (and on the local list, if there is one); the
    EV connected, the station offline, the idToken presented: it charges offline on the
    cache. Back online, the CSMS says Invalid: the queued events have offline true, then a
    TransactionEventRequest Deauthorized (C12.FR.04, E05.FR.09: StopTxOnInvalidId true) and
    the energy stops (an Ended event, or no chargingState Charging after it)."""
    await _cache_offline_invalid(cs, "0")


@pytest.mark.octt("TC_C_18_CS")
@AUTH_CACHE
@pytest.mark.cb_requires("TxCtrlr", "StopTxOnInvalidId")
@pytest.mark.cb_requires("TxCtrlr", "MaxEnergyOnInvalidId")
async def test_cache_offline_invalid_stops_max_energy(cs: Cs):
    """TC_C_18_CS: TC_C_16_CS with MaxEnergyOnInvalidId 500 and OfflineTxForUnknownIdEnabled
    true (If implemented): StopTxOnInvalidId true still deauthorizes (E05.FR.09; the energy
    allowance is E05.FR.03's, for StopTxOnInvalidId false), the Deauthorized event sent
    online (offline false or omitted), the energy stops."""
    await cs.configure("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true")
    if not await cs.configure("TxCtrlr", "MaxEnergyOnInvalidId", "500"):
        pytest.skip("not applicable: TxCtrlr.MaxEnergyOnInvalidId cannot be set 500")
    event = await _cache_offline_invalid(cs, None)
    if event.get("offline", False) is not False:
        raise failure("the Deauthorized TransactionEventRequest with offline false",
                      cs.frames("TransactionEvent"), None)


async def _cache_offline_invalid(cs: Cs, max_energy: str | None) -> dict:
    """TC_C_16/18_CS: returns the Deauthorized event."""
    await cs.configure("AuthCacheCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "true")
    if not await cs.configure("AuthCtrlr", "LocalAuthorizeOffline", "true"):
        pytest.skip("not applicable: AuthCtrlr.LocalAuthorizeOffline is not true "
                    f"({cs.var('AuthCtrlr', 'LocalAuthorizeOffline')!r})")
    if not await cs.configure("TxCtrlr", "StopTxOnInvalidId", "true"):
        pytest.skip("not applicable: TxCtrlr.StopTxOnInvalidId cannot be set true")
    if max_energy is not None:
        await cs.configure("TxCtrlr", "MaxEnergyOnInvalidId", max_energy)
    if "ParkingBayOccupancy" in cs.points("TxStartPoint"):
        pytest.skip("not implemented: TxStartPoint ParkingBayOccupancy (the EV driving into "
                    "the parking bay)")
    await id_token_cached(cs)
    if cs.model.has("LocalAuthListCtrlr") and not cs.model.unavailable("LocalAuthListCtrlr"):
        await cs.configure("LocalAuthListCtrlr", "Enabled", "true")
        await id_token_local_auth_list(cs)
    await ev_connected_pre_session(cs)
    await go_offline(cs)
    await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
    await station_sleep(cs, 1.0, limit=2.0)
    cs.central.tokens[cs.valid["idToken"]] = "Invalid"
    back = await go_online(cs)
    deauthorized = await cs.expect("TransactionEvent",
                                   transaction_event(triggerReason="Deauthorized"))
    queued = QueuedEvents(cs, back)
    await queued.collect()
    queued.check()
    with step("the queued events: one ChargingStateChanged (the energy flowed offline)"):
        if not any(e.get("triggerReason") == "ChargingStateChanged" for e in queued.events):
            raise failure("a queued TransactionEventRequest with triggerReason "
                          "ChargingStateChanged", cs.frames("TransactionEvent"), None)
    with step("the energy flow stops on Invalid"):
        await station_sleep(cs, 0.5, limit=1.0)
        if deauthorized.get("eventType") != "Ended":
            charging_after = [e for e in cs.events()[cs.events().index(deauthorized):]
                              if (e.get("transactionInfo") or {}).get("chargingState")
                              == "Charging"]
            if charging_after or (deauthorized.get("transactionInfo") or {}).get(
                    "chargingState") == "Charging":
                raise failure("no chargingState Charging once Deauthorized",
                              cs.frames("TransactionEvent"), None)
    return deauthorized



@pytest.mark.octt("TC_C_58_CS")
@LOCAL_LIST
@pytest.mark.cb_requires("LocalAuthListCtrlr", "DisablePostAuthorize")
async def test_local_list_disable_post_authorize(cs: Cs):
    """TC_C_58_CS: LocalAuthListCtrlr.DisablePostAuthorize true: an idToken Invalid on the
    local list is refused without an AuthorizeRequest (appendix 3 LocalAuthListCtrlr:
    C14.FR.03 disabled), nothing starts."""
    bad = token(f"{OTHER}-LISTED-NO-POST")
    await cs.configure("LocalAuthListCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "true")
    if not await cs.configure("LocalAuthListCtrlr", "DisablePostAuthorize", "true"):
        pytest.skip("not applicable: LocalAuthListCtrlr.DisablePostAuthorize cannot be set "
                    "true")
    await id_token_local_auth_list(cs, [{"idToken": bad, "idTokenInfo": {"status": "Invalid"}}])
    since = len(cs.peer.log)
    await cs.act("present_id_tag", tag=bad["idToken"], connector=cs.connector_id)
    await cs.peer.expect_nothing(
        lambda f: f.type == "CALL" and f.action == "Authorize", during=1.0,
        what="AuthorizeRequest")
    await _no_authorized_event(cs, bad, since, during=0.2)


#: <Configured masterPassGroupId>
MASTER_PASS_GROUP = "CB-MASTER-PASS"


@pytest.mark.octt("TC_C_45_CS")
@pytest.mark.cb_requires("AuthCtrlr", "MasterPassGroupId")
async def test_master_pass_does_not_start(cs: Cs):
    """TC_C_45_CS: AuthCtrlr.MasterPassGroupId set, TxStartPoint Authorized or
    PowerPathClosed; an idToken the CSMS accepts with that groupIdToken presented:
    AuthorizeRequest with it, then with the EV connected no TransactionEventRequest
    ChargingStateChanged to Charging (C12.FR.09, C16.FR.03: a master pass starts nothing)."""
    points = set(cs.points("TxStartPoint"))
    fits = points & {"Authorized", "PowerPathClosed"} and not points & {
        "ParkingBayOccupancy", "EVConnected"}
    if not fits and not await cs.configure("TxCtrlr", "TxStartPoint", "PowerPathClosed"):
        pytest.skip("not applicable: TxCtrlr.TxStartPoint "
                        f"{cs.var('TxCtrlr', 'TxStartPoint')!r} cannot be set to Authorized "
                        "or PowerPathClosed alone")
    if not await cs.configure("AuthCtrlr", "MasterPassGroupId", MASTER_PASS_GROUP):
        pytest.skip("not applicable: AuthCtrlr.MasterPassGroupId cannot be set")
    await cs.configure("AuthCtrlr", "DisableRemoteAuthorization", "false")
    master = token(f"{OTHER}-MASTER-PASS")
    cs.central.token_info[master["idToken"]] = {
        "groupIdToken": {"idToken": MASTER_PASS_GROUP, "type": "Central"}}
    await cs.act("present_id_tag", tag=master["idToken"], connector=cs.connector_id)
    await cs.expect("Authorize", {"idToken": master})
    since = len(cs.peer.log)
    await cs.act("plug_in", connector=cs.connector_id)
    await cs.expect_status("Occupied")
    await cs.peer.expect_nothing(
        lambda f: f.type == "CALL" and f.action == "TransactionEvent" and (
            ((f.payload or {}).get("transactionInfo") or {}).get("chargingState")
            == "Charging"), during=1.0, what="TransactionEventRequest chargingState Charging")
    for frame in cs.peer.log[since:]:
        payload = frame.payload if isinstance(frame.payload, dict) else {}
        if frame.type == "CALL" and frame.action == "TransactionEvent" and (
                payload.get("transactionInfo") or {}).get("chargingState") == "Charging":
            raise failure("no chargingState Charging for a master pass", [frame], None)


@pytest.mark.octt("TC_C_17_CS")
@AUTH_CACHE
@pytest.mark.cb_requires("TxCtrlr", "StopTxOnInvalidId")
async def test_cache_offline_invalid_suspends(cs: Cs):
    """TC_C_17_CS: as TC_C_16_CS with StopTxOnInvalidId false and MaxEnergyOnInvalidId 0:
    the queued events have offline true, one Authorized with the idToken; once the CSMS
    says Invalid the energy stops: a TransactionEventRequest chargingState SuspendedEVSE
    (E05.FR.02), and the transaction does not charge after it."""
    await cs.configure("AuthCacheCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "true")
    await cs.configure("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true")
    if not await cs.configure("AuthCtrlr", "LocalAuthorizeOffline", "true"):
        pytest.skip("not applicable: AuthCtrlr.LocalAuthorizeOffline is not true "
                    f"({cs.var('AuthCtrlr', 'LocalAuthorizeOffline')!r})")
    if not await cs.configure("TxCtrlr", "StopTxOnInvalidId", "false"):
        pytest.skip("not applicable: TxCtrlr.StopTxOnInvalidId cannot be set false")
    if not await cs.configure("TxCtrlr", "MaxEnergyOnInvalidId", "0") and cs.model.has(
            "TxCtrlr", "MaxEnergyOnInvalidId"):
        pytest.skip("not applicable: TxCtrlr.MaxEnergyOnInvalidId cannot be set 0")
    if "ParkingBayOccupancy" in cs.points("TxStartPoint"):
        pytest.skip("not implemented: TxStartPoint ParkingBayOccupancy (the EV driving into "
                    "the parking bay)")
    if "EnergyTransfer" in cs.points("TxStopPoint"):
        pytest.skip("not applicable: TxStopPoint EnergyTransfer (E05.FR.02 excludes it)")
    await id_token_cached(cs)
    if cs.model.has("LocalAuthListCtrlr") and not cs.model.unavailable("LocalAuthListCtrlr"):
        await cs.configure("LocalAuthListCtrlr", "Enabled", "true")
        await id_token_local_auth_list(cs)
    await ev_connected_pre_session(cs)
    await go_offline(cs)
    await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
    await station_sleep(cs, 1.0, limit=2.0)
    cs.central.tokens[cs.valid["idToken"]] = "Invalid"
    back = await go_online(cs)
    suspended = await cs.expect("TransactionEvent",
                                transaction_event(chargingState="SuspendedEVSE"))
    queued = QueuedEvents(cs, back)
    await queued.collect()
    queued.check()
    with step("the queued events: one Authorized with the idToken"):
        if not any(e.get("triggerReason") == "Authorized" and e.get("idToken") == cs.valid
                   for e in queued.events):
            raise failure("a queued TransactionEventRequest Authorized with the idToken",
                          cs.frames("TransactionEvent"), None)
    with step("no chargingState Charging after SuspendedEVSE"):
        await station_sleep(cs, 0.5, limit=1.0)
        events = cs.events()
        if any((e.get("transactionInfo") or {}).get("chargingState") == "Charging"
               for e in events[events.index(suspended) + 1:]):
            raise failure("no chargingState Charging after SuspendedEVSE",
                          cs.frames("TransactionEvent"), None)


@pytest.mark.octt("TC_C_26_CS")
@pytest.mark.cb_requires("AuthCtrlr", "OfflineTxForUnknownIdEnabled")
async def test_offline_unknown_id(cs: Cs):
    """TC_C_26_CS: OfflineTxForUnknownIdEnabled true, StopTxOnInvalidId false: offline, an
    idToken the station does not know presented and the EV connected starts a transaction
    (StartOfflineTransaction: C15.FR.02); back online every queued event has offline true,
    the CSMS says Invalid and the energy is suspended (chargingState SuspendedEVSE: C15.FR.06,
    E05.FR.02); the same idToken presented again: StopAuthorized (C15.FR.08)."""
    unknown = token(f"{OTHER}-UNKNOWN-OFFLINE-{next_id()}")
    await cs.configure("LocalAuthListCtrlr", "Enabled", "true")
    await cs.configure("AuthCtrlr", "LocalPreAuthorize", "true")
    if not await cs.configure("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true"):
        pytest.skip("not applicable: AuthCtrlr.OfflineTxForUnknownIdEnabled cannot be set true")
    if not await cs.configure("AuthCtrlr", "LocalAuthorizeOffline", "true"):
        pytest.skip("not applicable: AuthCtrlr.LocalAuthorizeOffline is not true")
    await cs.configure("TxCtrlr", "MaxEnergyOnInvalidId", "0")
    if not await cs.configure("TxCtrlr", "StopTxOnInvalidId", "false"):
        pytest.skip("not applicable: TxCtrlr.StopTxOnInvalidId cannot be set false")
    if "ParkingBayOccupancy" in cs.points("TxStartPoint"):
        pytest.skip("not implemented: TxStartPoint ParkingBayOccupancy (the EV driving into "
                    "the parking bay)")
    if "EnergyTransfer" in cs.points("TxStopPoint"):
        pytest.skip("not applicable: TxStopPoint EnergyTransfer (E05.FR.02 excludes it)")
    cs.central.tokens[unknown["idToken"]] = "Invalid"
    with step("Reusable State StartOfflineTransaction"):
        await go_offline(cs)
        await cs.act("present_id_tag", tag=unknown["idToken"], connector=cs.connector_id)
        await cs.act("plug_in", connector=cs.connector_id)
        await station_sleep(cs, 1.0, limit=2.0)
        back = await go_online(cs)
    await cs.expect("TransactionEvent", transaction_event(chargingState="SuspendedEVSE"))
    queued = QueuedEvents(cs, back)
    await queued.collect()
    queued.check()
    with step("the transaction started offline for the unknown idToken"):
        if not any(e.get("idToken") == unknown for e in queued.events):
            raise failure(f"a queued TransactionEventRequest with idToken {unknown}",
                          cs.frames("TransactionEvent"), None)
    await cs.act("present_id_tag", tag=unknown["idToken"], connector=cs.connector_id)
    await cs.act("plug_out", connector=cs.connector_id)
    await cs.expect("TransactionEvent", transaction_event(triggerReason="StopAuthorized"))
