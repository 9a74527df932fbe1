"""The version on the wire (issue 16 point 5): a charge point offers the versions it has a
handler module for and answers with the table of the one agreed in the handshake."""

from __future__ import annotations

import pytest

from chargebench.ocppj.versions import OCPP16, OCPP201, VERSIONS
from sim import dispatch
from sim.v16 import handlers as v16
from tests.sim.conftest import WAIT


def test_the_16_table_answers_every_csms_initiated_action_of_16():
    """The 1.6 module's table names every CSMS-initiated action of 1.6 and the whitepaper,
    and nothing else: whether one is answered is the session core's SupportedFeatureProfiles
    decision, never a missing handler."""
    assert v16.VERSION is OCPP16
    assert set(v16.HANDLERS) == set(OCPP16.cs_initiated)


def test_a_station_offers_only_the_versions_its_configuration_speaks():
    """Both versions have a module, 1.6 first (the 1.6 charge point's table before a
    handshake); a 1.6 key file offers only ocpp1.6, a 2.0.1 device model only ocpp2.0.1, and a
    version without a module is never offered."""
    assert dispatch.versions() == [OCPP16, OCPP201]
    assert dispatch.subprotocols() == ["ocpp1.6"]
    assert dispatch.subprotocols([OCPP201]) == ["ocpp2.0.1"]
    assert dispatch.module_for(OCPP201).VERSION is OCPP201
    with pytest.raises(KeyError):
        dispatch.module_for(object())  # type: ignore[arg-type]


async def test_the_connection_speaks_the_version_agreed(csms, make_cp):
    """Against a server speaking 2.0.1 and 1.6, the handshake offers only what the simulator
    has handlers for, and the connection's table and session are of the version agreed."""
    cp = await make_cp()
    await cp.wait_booted(WAIT)
    headers = {key.lower(): value for key, value in csms.headers["CP1"].items()}
    assert headers["sec-websocket-protocol"] == "ocpp1.6"
    assert cp.session is not None
    assert cp.session.core.version is VERSIONS["ocpp1.6"]
    assert cp.link.handlers.version is cp.session.core.version
    reply = await csms.call("CP1", "GetConfiguration", {"key": ["HeartbeatInterval"]})
    assert reply["configurationKey"][0]["key"] == "HeartbeatInterval"
