"""Certificate store on the charge point: A02/A03 signing, M03-M05 root management, A05 rules,
and a profile-3 TLS handshake with a certificate obtained through SignCertificate."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.v16.enums import ConfigurationStatus

from chargebench.clock import FrozenClock
from chargebench.security import (
    DEFAULT_CPO_NAME,
    init_pki,
    make_csr,
    peer_identity,
    server_ssl_context,
    sign_csr,
)
from sim.features import connection
from sim.features.certificates import (
    CSMS_ROOT,
    MANUFACTURER_ROOT,
    CertificateStore,
    fallback_profile,
    hash_data,
    profile_upgrade_error,
)
from sim.features.security_events import SecurityEvents
from tests.sim.features.helpers import make_config, valid_reply, valid_request

SERIAL = "CB-0001"
SECURITY = {"SecurityProfile": 0, "CpoName": DEFAULT_CPO_NAME,
            "AuthorizationKey": "0123456789abcdef0123"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CPO hierarchy (CA, CSMS certificate) plus a rogue CA's client certificate."""
    return init_pki(tmp_path_factory.mktemp("pki"), charge_points=[])


@pytest.fixture
def now_clock() -> FrozenClock:
    """Frozen at the real time: `init_pki` certificates are valid from now on."""
    return FrozenClock(datetime.now(UTC))


def read(path: Path) -> str:
    return path.read_text("ascii")


def store_for(clock, state_dir=None, events=None, **security) -> CertificateStore:
    config = make_config(Internal={"ChargeBoxSerialNumber": SERIAL},
                         Security={**SECURITY, **security})
    return CertificateStore(config, clock=clock, state_dir=state_dir, security_event=events)


def signed(store: CertificateStore, pki, days: int = 365) -> str:
    """Run SignCertificate.req through the CPO CA: the CertificateSigned.req chain."""
    request = valid_request("SignCertificate", store.sign_certificate_request())
    return sign_csr(request["csr"], read(pki.ca_cert), read(pki.ca_key), days=days)


def make_root(name: str, parent: tuple[str, str] | None = None) -> tuple[str, str]:
    """A CA certificate and key (PEM): self-signed, or signed by `parent` (M05.FR.09 rollover)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer, signer = subject, key
    if parent is not None:
        issuer = x509.load_pem_x509_certificate(parent[0].encode()).subject
        signer = serialization.load_pem_private_key(parent[1].encode(), None)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def issue_server(ca: tuple[str, str]) -> str:
    """A CSMS certificate issued by `ca` (PEM)."""
    ca_cert = x509.load_pem_x509_certificate(ca[0].encode())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(7)
        .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=1))
        .sign(serialization.load_pem_private_key(ca[1].encode(), None), hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class TestSignCertificate:
    def test_csr_subject(self, now_clock):
        """A02.FR.03/13: a PEM CSR with CN = ChargeBoxSerialNumber and O = CpoName."""
        store = store_for(now_clock)
        csr = x509.load_pem_x509_csr(store.sign_certificate_request()["csr"].encode())
        cn = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        org = csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
        assert (cn, org) == (SERIAL, DEFAULT_CPO_NAME)
        assert csr.is_signature_valid

    def test_no_cpo_name_no_csr(self, now_clock):
        """A02 prerequisite: without CpoName the trigger is Rejected and no CSR is made."""
        store = store_for(now_clock, CpoName=None)
        assert store.trigger_status() == "Rejected"
        with pytest.raises(ValueError, match="CpoName"):
            store.sign_certificate_request()

    async def test_request_certificate_sends_sign_certificate(self, now_clock, notify):
        """A02 step 4: SignCertificate.req goes out through the session's call."""
        store = store_for(now_clock)
        await store.request_certificate(notify)
        assert [a for a, _ in notify.sent] == ["SignCertificate"]


class TestCertificateSigned:
    def test_accepted_installed_and_persisted(self, now_clock, pki, tmp_path):
        """A02.FR.06: a valid chain for the pending key is Accepted and survives a restart."""
        store = store_for(now_clock, tmp_path)
        assert store.install_root(CSMS_ROOT, read(pki.ca_cert)) == "Accepted"
        chain = signed(store, pki)
        reply = valid_reply("CertificateSigned",
                            store.handlers["CertificateSigned"]({"certificateChain": chain}))
        assert reply == {"status": "Accepted"}
        again = store_for(now_clock, tmp_path)
        assert again.active_leaf() is not None
        assert again.active_leaf().chain_pem == chain
        # the pending key was used: the same chain a second time is refused
        assert store.on_certificate_signed({"certificateChain": chain})["status"] == "Rejected"

    @pytest.mark.parametrize("case", ["rogue_ca", "other_serial", "no_root", "garbage"])
    def test_rejected_with_security_event(self, now_clock, pki, tmp_path, case):
        """A02.FR.06/07: a chain outside the CPO hierarchy, for another CN, or unparsable is
        Rejected and logged as InvalidChargePointCertificate."""
        events = SecurityEvents(make_config(), clock=now_clock, state_dir=tmp_path)
        store = store_for(now_clock, events=events)
        if case != "no_root":
            store.install_root(CSMS_ROOT, read(pki.ca_cert))
        csr = store.sign_certificate_request()["csr"]
        if case == "rogue_ca":
            chain = read(pki.invalid_client_cert)
        elif case == "other_serial":
            other_csr, _ = make_csr("OTHER-1", DEFAULT_CPO_NAME)
            chain = sign_csr(other_csr, read(pki.ca_cert), read(pki.ca_key))
        elif case == "garbage":
            chain = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        else:
            chain = sign_csr(csr, read(pki.ca_cert), read(pki.ca_key))
        assert store.on_certificate_signed({"certificateChain": chain}) == {"status": "Rejected"}
        assert store.active_leaf() is None
        assert events.log_lines()[-1]["type"] == "InvalidChargePointCertificate"

    def test_expired_rejected(self, pki):
        """A02.FR.06: the validity period is checked against the charge point's clock."""
        clock = FrozenClock(datetime.now(UTC))
        store = store_for(clock)
        store.install_root(CSMS_ROOT, read(pki.ca_cert))
        chain = signed(store, pki, days=1)
        clock.advance(2 * 86400)
        assert store.on_certificate_signed({"certificateChain": chain})["status"] == "Rejected"

    def test_newest_certificate_used_and_renewal(self, now_clock, pki):
        """A02.FR.09 newest valid certificate in use; A03.FR.02 renewal within a month."""
        store = store_for(now_clock)
        store.install_root(CSMS_ROOT, read(pki.ca_cert))
        first = signed(store, pki, days=20)
        assert store.install_leaf("ChargePointCertificate", first)
        assert store.needs_renewal()
        now_clock.advance(60)
        second = signed(store, pki, days=365)
        assert store.install_leaf("ChargePointCertificate", second)
        assert store.active_leaf().chain_pem == second
        assert not store.needs_renewal()


class TestRootCertificates:
    def test_install_and_list(self, now_clock, pki):
        """M05.FR.02 Accepted, M03.FR.03/04 listed with SHA256 hash data, M03.FR.02 NotFound."""
        store = store_for(now_clock)
        get = store.handlers["GetInstalledCertificateIds"]
        assert get({"certificateType": CSMS_ROOT}) == {"status": "NotFound"}
        assert valid_reply("InstallCertificate", store.handlers["InstallCertificate"](
            {"certificateType": CSMS_ROOT, "certificate": read(pki.ca_cert)}
        )) == {"status": "Accepted"}
        reply = valid_reply("GetInstalledCertificateIds", get({"certificateType": CSMS_ROOT}))
        ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
        point = ca.public_key().public_bytes(serialization.Encoding.X962,
                                             serialization.PublicFormat.UncompressedPoint)
        assert reply["certificateHashData"] == [{
            "hashAlgorithm": "SHA256",
            "issuerNameHash": hashlib.sha256(ca.issuer.public_bytes()).hexdigest(),
            "issuerKeyHash": hashlib.sha256(point).hexdigest(),
            "serialNumber": format(ca.serial_number, "x"),
        }]
        assert get({"certificateType": MANUFACTURER_ROOT}) == {"status": "NotFound"}

    def test_invalid_and_full_rejected(self, now_clock, pki):
        """M05.FR.06 garbage or a leaf is Rejected; M05.FR.03 a full store is Rejected."""
        store = store_for(now_clock, CertificateStoreMaxLength=1)
        assert store.install_root(CSMS_ROOT, "not a certificate") == "Rejected"
        assert store.install_root(CSMS_ROOT, read(pki.csms_cert)) == "Rejected"  # not a CA
        assert store.install_root(MANUFACTURER_ROOT, read(pki.ca_cert)) == "Accepted"
        assert store.manufacturer_roots() == [read(pki.ca_cert)]
        assert store.install_root(CSMS_ROOT, make_root("Other CA")[0]) == "Rejected"

    def test_additional_root_certificate_check(self, now_clock, pki):
        """M05.FR.09-12: the new CSMS root must be signed by the old, which stays as fallback
        until a connection verified with the new one."""
        store = store_for(now_clock, AdditionalRootCertificateCheck=True)
        assert store.install_root(CSMS_ROOT, read(pki.ca_cert)) == "Accepted"
        assert store.install_root(CSMS_ROOT, make_root("Unrelated")[0]) == "Rejected"  # FR.10
        new_root = make_root("New Root", (read(pki.ca_cert), read(pki.ca_key)))
        assert store.install_root(CSMS_ROOT, new_root[0]) == "Accepted"  # FR.11
        assert len(store.roots(CSMS_ROOT)) == 2
        store.on_connected(read(pki.csms_cert))  # verified by the old root only: keep both
        assert len(store.roots(CSMS_ROOT)) == 2
        store.on_connected(issue_server(new_root))  # FR.12: the new root works, drop the old
        assert [c.subject.rfc4514_string() for c in store.roots(CSMS_ROOT)] == ["CN=New Root"]

    def test_delete(self, now_clock, pki):
        """M04: NotFound, Accepted with the install's algorithm, Failed for the root in use
        (FR.06) and for the Charge Point Certificate (FR.05)."""
        store = store_for(now_clock)
        ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
        delete = store.handlers["DeleteCertificate"]
        assert delete({"certificateHashData": hash_data(ca)}) == {"status": "NotFound"}
        store.install_root(CSMS_ROOT, read(pki.ca_cert))
        store.install_leaf("ChargePointCertificate", signed(store, pki))
        leaf = store.active_leaf().certificate
        assert delete({"certificateHashData": hash_data(leaf, ca)}) == {"status": "Failed"}
        store.config.set_value("SecurityProfile", 2)
        sha384 = hash_data(ca, algorithm="SHA384")
        assert valid_reply("DeleteCertificate", delete({"certificateHashData": sha384})) == {
            "status": "Failed"}  # the only CSMS root, in use
        store.config.set_value("SecurityProfile", 0, persist=False)
        assert delete({"certificateHashData": sha384}) == {"status": "Accepted"}
        assert store.roots(CSMS_ROOT) == []


class TestSecurityProfile:
    def test_upgrade_prerequisites(self, now_clock, pki):
        """A05.FR.03/04 through config.add_check; A05.FR.01 downgrades stay Rejected."""
        store = store_for(now_clock)
        config = store.config
        config.add_check("SecurityProfile", store.check_security_profile)
        assert config.change_configuration("SecurityProfile", "2") == ConfigurationStatus.rejected
        store.install_root(CSMS_ROOT, read(pki.ca_cert))
        assert config.change_configuration("SecurityProfile", "3") == ConfigurationStatus.rejected
        store.install_leaf("ChargePointCertificate", signed(store, pki))
        assert config.change_configuration("SecurityProfile", "3") in (
            ConfigurationStatus.accepted, ConfigurationStatus.reboot_required)
        config.apply_pending()
        assert config.change_configuration("SecurityProfile", "2") == ConfigurationStatus.rejected

    def test_pure_rules(self):
        """The A05 rules as functions: prerequisites and the fallback decision (FR.08/09)."""
        assert profile_upgrade_error(1, csms_root_valid=False, cp_certificate_valid=False) is None
        assert "A05.FR.03" in profile_upgrade_error(2, csms_root_valid=False,
                                                    cp_certificate_valid=True)
        assert "A05.FR.04" in profile_upgrade_error(3, csms_root_valid=True,
                                                    cp_certificate_valid=False)
        common = {"previous": 1, "current": 2, "max_attempts": 3}
        assert fallback_profile(**common, failed_attempts=2, connected_since_change=False) is None
        assert fallback_profile(**common, failed_attempts=3, connected_since_change=False) == 1
        assert fallback_profile(**common, failed_attempts=9, connected_since_change=True) is None
        assert fallback_profile(previous=None, current=2, max_attempts=1, failed_attempts=5,
                                connected_since_change=False) is None


class TestMutualTls:
    async def test_signed_certificate_works_for_profile_3(self, now_clock, pki, tmp_path):
        """SignCertificate/CertificateSigned give a client certificate a profile-3 CSMS admits
        over a real TLS handshake, with CN = serial and O = CpoName."""
        store = store_for(now_clock, tmp_path)
        store.install_root(CSMS_ROOT, read(pki.ca_cert))
        assert store.on_certificate_signed({"certificateChain": signed(store, pki)}) == {
            "status": "Accepted"}
        config = store.config
        config.add_check("SecurityProfile", store.check_security_profile)
        assert config.change_configuration("SecurityProfile", "3") != ConfigurationStatus.rejected
        config.apply_pending()

        seen = []

        async def handler(ws):
            seen.append(peer_identity(ws.transport.get_extra_info("ssl_object")))
            await ws.send("hello")

        ssl_server = server_ssl_context(pki.csms_cert, pki.csms_key, pki.ca_cert,
                                        require_client_cert=True)
        async with websockets.serve(handler, "127.0.0.1", 0, ssl=ssl_server) as server:
            port = server.sockets[0].getsockname()[1]
            options = connection.connect_options(config, store.tls_files())
            async with websockets.connect(f"wss://127.0.0.1:{port}/ocpp/{SERIAL}",
                                          ssl=options["ssl"]) as ws:
                assert await asyncio.wait_for(ws.recv(), 5) == "hello"
                der = ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
                store.on_connected(der)
        assert seen[0].matches(SERIAL, DEFAULT_CPO_NAME)
