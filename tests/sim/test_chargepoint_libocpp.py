"""EVerest's real libocpp 1.6 config files load as they are and connect (security profiles)."""

from __future__ import annotations

import json

import pytest

from chargebench.security import basic_auth_header, init_pki, server_ssl_context
from sim.chargepoint import ChargePoint
from sim.config import ChargePointConfig
from sim.features.connection import TlsFiles, endpoint
from tests.sim.conftest import LIBOCPP_DIR, WAIT, ScriptedCsms

PLAIN = ["config.json", "config-docker.json", "config-full.json"]


async def _boot(cp: ChargePoint) -> None:
    await cp.start()
    try:
        await cp.wait_booted(WAIT)
    finally:
        await cp.stop()


@pytest.mark.parametrize("name", PLAIN)
async def test_libocpp_file_boots(name, csms, clock):
    """The file loads unchanged and boots; profile 1 sends HTTP Basic with AuthorizationKey."""
    config = ChargePointConfig.load(LIBOCPP_DIR / name)
    await _boot(ChargePoint(config, csms_url=csms.url, clock=clock))
    assert csms.sent("BootNotification", "cp001")
    header = csms.headers["cp001"].get("authorization")
    if config.security_profile == 1:
        assert header == basic_auth_header("cp001", config.authorization_key)
    else:
        assert header is None


async def test_libocpp_tls_file_boots(tmp_path, clock):
    """config-docker-tls.json (profile 2): wss:// with the CA file and Basic authentication."""
    pki = init_pki(tmp_path / "pki")
    server = await ScriptedCsms().start(ssl=server_ssl_context(pki.csms_cert, pki.csms_key))
    try:
        config = ChargePointConfig.load(LIBOCPP_DIR / "config-docker-tls.json")
        cp = ChargePoint(config, csms_url=server.url, clock=clock, tls=TlsFiles(str(pki.ca_cert)))
        await _boot(cp)
        assert server.url.startswith("wss://")
        assert server.headers["cp001"]["authorization"].startswith("Basic ")
    finally:
        await server.close()


async def test_profile_3_client_certificate(tmp_path, clock):
    """Profile 3: the CSMS requires a client certificate, which the charge point presents."""
    pki = init_pki(tmp_path / "pki", charge_points=["cp001"])
    context = server_ssl_context(pki.csms_cert, pki.csms_key, pki.ca_cert,
                                 require_client_cert=True)
    server = await ScriptedCsms().start(ssl=context)
    try:
        data = json.loads((LIBOCPP_DIR / "config.json").read_text())
        data["Security"]["SecurityProfile"] = 3
        cert, key = pki.charge_points["cp001"]
        cp = ChargePoint(ChargePointConfig.from_dict(data), csms_url=server.url, clock=clock,
                         tls=TlsFiles(str(pki.ca_cert), str(cert), str(key)))
        await _boot(cp)
        assert "authorization" not in server.headers["cp001"]
    finally:
        await server.close()


def test_endpoint_scheme_from_profile():
    """A CentralSystemURI without scheme gets ws:// or wss:// from SecurityProfile."""
    config = ChargePointConfig.load(LIBOCPP_DIR / "config-docker-tls.json")
    assert endpoint(config) == \
        "wss://127.0.0.1:8443/steve/websocket/CentralSystemService/cp001"
