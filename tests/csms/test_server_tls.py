"""Security profiles 2 and 3 over real TLS with a generated PKI (security whitepaper ed. 3)."""

from __future__ import annotations

import ssl

import pytest
from websockets.exceptions import InvalidHandshake, InvalidStatus

from chargebench.ocppj import connect
from chargebench.security import client_ssl_context, init_pki
from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint

KEY = "tls-key-CP2-01234567"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return init_pki(tmp_path_factory.mktemp("pki"), charge_points=["SN-3", "SN-OTHER"])


@pytest.fixture
async def csms(tmp_path, pki):
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             tls_cert=pki.csms_cert, tls_key=pki.csms_key,
                             tls_ca=pki.ca_cert) as central:  # fmt: skip
        store = central.store
        store.upsert_charger("CP2", security_profile=2, registration_status="Accepted")
        store.set_charger_password("CP2", KEY, n=2)
        store.upsert_charger("CP3", serial="SN-3", security_profile=3,
                             registration_status="Accepted")  # fmt: skip
        yield central


async def test_profile_2_tls_with_basic_auth(csms, pki):
    """Profile 2: wss:// plus Basic auth is admitted at profile 2; without the header, 401."""
    async with await ScriptedChargePoint.connect(csms.url("CP2"), "CP2", auth_key=KEY,
                                                 ssl=pki.client_context()) as cp:  # fmt: skip
        assert (await cp.boot())["status"] == "Accepted"
        assert csms.connections.get("CP2").profile == 2
    with pytest.raises(InvalidStatus) as caught:
        await connect(csms.url("CP2"), ssl=pki.client_context())
    assert caught.value.response.status_code == 401


async def test_profile_3_client_certificate(csms, pki):
    """Profile 3: a CA-signed certificate with CN = serial and O = CPO name is admitted."""
    async with await ScriptedChargePoint.connect(csms.url("CP3"), "CP3",
                                                 ssl=pki.client_context("SN-3")) as cp:  # fmt: skip
        await cp.boot()
        assert csms.connections.get("CP3").profile == 3
    assert csms.store.get_charger("CP3")["max_profile_seen"] == 3


async def test_profile_3_wrong_or_missing_certificate_refused(csms, pki):
    """Another charger's certificate gets 403, none at all 401/403, an untrusted one fails TLS."""
    with pytest.raises(InvalidStatus) as caught:
        await connect(csms.url("CP3"), ssl=pki.client_context("SN-OTHER"))
    assert caught.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        await connect(csms.url("CP3"), ssl=pki.client_context())
    rogue = client_ssl_context(pki.ca_cert, pki.invalid_client_cert, pki.invalid_client_key)
    # TLS 1.3: the client learns of the refusal only when the server aborts after its Finished.
    with pytest.raises((ssl.SSLError, OSError, InvalidHandshake)):
        await connect(csms.url("CP3"), ssl=rogue)
    assert "CP3" not in csms.connections
