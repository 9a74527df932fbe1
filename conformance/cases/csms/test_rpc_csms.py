"""OCPP-J robustness of a CSMS under test: payload types it alone receives, CALLs before
acceptance, and refusals in the opening handshake (OCPP-J 1.6 §3, security whitepaper §2)."""

from __future__ import annotations

import pytest

from conformance.endpoints import probe_handshake
from conformance.robustness import PROBES, Probe, check_probe

ONLY_CSMS = [
    pytest.param(p, id=p.case, marks=pytest.mark.octt(p.case))
    for p in PROBES if p.roles == ("csms",)
]


@pytest.mark.parametrize("probe", ONLY_CSMS)
async def test_malformed_payload_gets_its_callerror(peer, probe: Probe):
    """RPC_019: a payload only a CSMS receives, broken, earns the table's CALLERROR."""
    await check_probe(peer, "csms", probe)


@pytest.mark.octt("RPC_020")
async def test_call_before_boot_accepted_gets_security_error(never_booted_peer):
    """RPC_020: a CALL before BootNotification is accepted: OCPP-J 1.6 errata §3.10 makes
    CALLERROR SecurityError RECOMMENDED, not required, so SecurityError passes, another answer
    is reported as not followed advice (skipped with the reason), no answer at all fails
    (§4.2.3: every CALL gets a CALLRESULT or CALLERROR). Runs as a charge point that never
    booted: a booted one keeps its registration across reconnects (OCPP 1.6 §4.2)."""
    message_id = await never_booted_peer.send_call("Heartbeat", {})
    reply = await never_booted_peer.wait_for_reply(message_id)
    if (reply.error or {}).get("errorCode") != "SecurityError":
        pytest.skip(f"advisory, not a failure: errata §3.10 RECOMMENDS CALLERROR SecurityError "
                    f"before the boot is accepted; the CSMS answered {reply.describe()}")


@pytest.mark.parametrize(
    "offered",
    [
        pytest.param((), id="RPC_021", marks=pytest.mark.octt("RPC_021")),
        pytest.param(("ocpp0.9",), id="RPC_022", marks=pytest.mark.octt("RPC_022")),
    ],
)
async def test_no_common_subprotocol_gives_no_session(cb, offered):
    """RPC_021-022: without a common subprotocol no OCPP session starts (OCPP-J 1.6 §3.2)."""
    outcome = await probe_handshake(cb, subprotocols=offered, password=cb.password_for(cb.cp_id))
    assert outcome.subprotocol is None and outcome.violation is None, (
        f"expected no subprotocol agreed; received: {outcome.describe()}"
    )
    assert outcome.refused, (
        f"expected: handshake without Sec-WebSocket-Protocol, then an immediate close; "
        f"received: {outcome.describe()}"
    )


@pytest.mark.octt("RPC_023")
async def test_unknown_charge_point_is_refused(cb):
    """RPC_023: an unknown identity in the URL is refused, HTTP 404 (OCPP-J 1.6 §3.2)."""
    outcome = await probe_handshake(cb, cp_id="CB-UNKNOWN-0000", password=cb.password)
    assert outcome.status == 404, f"expected HTTP 404; received: {outcome.describe()}"


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("WRONG-PASSWORD-0000", id="RPC_024", marks=pytest.mark.octt("RPC_024")),
        pytest.param(None, id="RPC_025", marks=pytest.mark.octt("RPC_025")),
    ],
)
async def test_bad_basic_auth_is_refused(cb, password):
    """RPC_024-025: a wrong or missing Basic-auth password is refused with HTTP 401 (security
    whitepaper §2.3, A00.FR.204)."""
    outcome = await probe_handshake(cb, password=password)
    assert outcome.status == 401, f"expected HTTP 401; received: {outcome.describe()}"


@pytest.mark.octt("RPC_026")
async def test_invalid_client_certificate_is_refused(cb):
    """RPC_026: a client certificate from an untrusted CA ends the TLS handshake (security
    whitepaper §2.5, A00.FR.407)."""
    if cb.invalid_cert is None:
        pytest.skip("needs --cb-invalid-cert (see `chargebench pki init`)")
    outcome = await probe_handshake(cb, cert=cb.invalid_cert, key=cb.invalid_key)
    assert outcome.violation is None and (outcome.error or outcome.status), (
        f"expected the TLS handshake to fail; received: {outcome.describe()}"
    )
