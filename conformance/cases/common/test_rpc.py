"""OCPP-J 1.6 §4 robustness, for either role under test: malformed frames and the CALLERROR each
must get, reused and over-long message ids, crossing CALLs, stray replies (`conformance.robustness`
holds the probes; the catalogue holds the ids)."""

from __future__ import annotations

import pytest

from conformance.robustness import (
    PROBES,
    Probe,
    check_concurrent_calls,
    check_duplicate_id,
    check_late_reply,
    check_probe,
)


def _params() -> list:
    return [
        pytest.param(probe, id=probe.case, marks=pytest.mark.octt(probe.case))
        for probe in PROBES if probe.roles == ("cp", "csms")
    ]


@pytest.mark.parametrize("probe", _params())
async def test_malformed_frame_gets_its_callerror(peer, role, probe: Probe):
    """RPC_001-015: a broken frame earns a CALLERROR with a code OCPP-J 1.6 §4.2.3 allows for
    it (or, for a frame without a readable id or of an unknown type, no answer)."""
    await check_probe(peer, role, probe)


@pytest.mark.octt("RPC_016")
async def test_duplicate_message_id(peer, role):
    """RPC_016: a CALL reusing a message id is answered, CALLRESULT or CALLERROR (OCPP-J 1.6
    §4.1.4, errata §3.1: a retried message may reuse its id)."""
    await check_duplicate_id(peer, role)


@pytest.mark.octt("RPC_017")
async def test_call_while_another_is_outstanding(peer, role):
    """RPC_017: two crossing CALLs are both answered (OCPP-J 1.6 §4.1.1 NOTE)."""
    await check_concurrent_calls(peer, role)


@pytest.mark.octt("RPC_018")
async def test_reply_after_timeout_is_ignored(peer, role):
    """RPC_018: a reply to no outstanding CALL is not answered and breaks nothing (§4.2.2)."""
    await check_late_reply(peer, role)
