"""Security profiles 1-3: Basic auth rules, the test PKI, and real TLS handshakes on 127.0.0.1."""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import ssl
import stat
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidHandshake

from chargebench import pki_cli
from chargebench.security import (
    OCPP_TLS12_CIPHERS,
    PkiFiles,
    basic_auth_header,
    check_basic_auth,
    client_ssl_context,
    csr_identity,
    generate_authorization_key,
    init_pki,
    make_csr,
    parse_authorization_key,
    parse_basic_auth,
    peer_identity,
    server_ssl_context,
    sign_csr,
)

SERIAL = "CB-0001"
OTHER_SERIAL = "CB-0002"
CPO = "ChargeBench Test CPO"
TIMEOUT = 5.0
HEX_KEY = "4F43415F4F4354545F61646D696E5F74657374"  # OCTT TC_073: "OCA_OCTT_admin_test"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


# Fixtures


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return init_pki(
        tmp_path_factory.mktemp("pki"), cpo_name=CPO, charge_points=[SERIAL, OTHER_SERIAL]
    )


@pytest.fixture(scope="module")
def rsa_pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return init_pki(tmp_path_factory.mktemp("pki-rsa"), cpo_name=CPO, key_type="rsa")


# AuthorizationKey rule


class TestAuthorizationKey:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (HEX_KEY, b"OCA_OCTT_admin_test"),
            (HEX_KEY.lower(), b"OCA_OCTT_admin_test"),
            ("00" * 16, bytes(16)),
            ("ff" * 20, b"\xff" * 20),
        ],
    )
    def test_32_to_40_hex_digits_are_decoded(self, value: str, expected: bytes) -> None:
        """A key of 32-40 hex digits is the hex form of a 16-20 byte binary key."""
        assert parse_authorization_key(value) == expected

    @pytest.mark.parametrize("value", ["DEADBEEFDEADBEEF", "AABBCCDDEEFFGGHH", "x" * 20, "ü" * 10])
    def test_16_to_20_bytes_of_text_are_used_as_is(self, value: str) -> None:
        """A 16-20 byte text key (libocpp's samples included) is the password unchanged."""
        assert parse_authorization_key(value) == value.encode("utf-8")

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ("", "16-20 bytes"),
            ("short-key-15chr", "16-20 bytes"),
            ("x" * 21, "16-20 bytes"),
            ("ü" * 11, "22 bytes"),
            ("a" * 31, "16-20 bytes"),
            ("0" * 33, "odd number"),
            ("g" * 32, "hexadecimal digits"),
            ("0" * 42, "16-20 bytes"),
        ],
    )
    def test_invalid_keys_raise_without_disclosing_them(self, value: str, reason: str) -> None:
        """Keys outside the whitepaper's rule raise ValueError that never echoes the key."""
        with pytest.raises(ValueError, match=reason) as excinfo:
            parse_authorization_key(value)
        assert not value or value not in str(excinfo.value)

    def test_generated_key_is_40_hex_digits_of_20_bytes(self) -> None:
        """A generated key is what ChangeConfiguration.req carries and parses back to 20 bytes."""
        key = generate_authorization_key()
        assert len(key) == 40
        assert len(parse_authorization_key(key)) == 20


# HTTP Basic authentication


class TestBasicAuth:
    def test_header_matches_ocpp_j_example(self) -> None:
        """The OCPP-J §6.2.2 example (key as raw bytes) is reproduced, bar the spec's typo."""
        header = basic_auth_header("AL1000", "0001020304050607FFFFFFCCCCCCCCCCCC")
        assert header.startswith("Basic QUwxMDAwOgABAgMEBQYH////")

    @pytest.mark.parametrize("key", [HEX_KEY, "sixteen-byte-key", bytes(range(20))])
    def test_round_trip(self, key: str | bytes) -> None:
        """A header built for a key is accepted for the same charge point and key."""
        assert check_basic_auth(basic_auth_header(SERIAL, key), SERIAL, key)

    def test_hex_and_raw_forms_of_a_key_give_one_header(self) -> None:
        """A hex-configured key and its decoded bytes authenticate identically."""
        raw = bytes.fromhex(HEX_KEY)
        assert basic_auth_header(SERIAL, HEX_KEY) == basic_auth_header(SERIAL, raw)
        assert parse_basic_auth(basic_auth_header(SERIAL, HEX_KEY)) == (SERIAL, raw)

    def test_wrong_user_refused(self) -> None:
        """The user must be the charge point id from the URL path (A00.FR.204)."""
        assert not check_basic_auth(basic_auth_header(OTHER_SERIAL, HEX_KEY), SERIAL, HEX_KEY)

    def test_wrong_key_refused(self) -> None:
        """A header with another key is refused."""
        header = basic_auth_header(SERIAL, generate_authorization_key())
        assert not check_basic_auth(header, SERIAL, HEX_KEY)

    @pytest.mark.parametrize(
        "header",
        [
            None,
            "",
            "Basic",
            "Basic ",
            f"Bearer {b64(b'CB-0001:OCA_OCTT_admin_test')}",
            "Basic !!!not-base64!!!",
            "Basic Q0ItMDAwMTpPQ0E",  # bad padding
            f"Basic {b64(b'CB-0001')}",  # no colon
            f"Basic {b64(bytes([0xFF, 0xFE]) + b':OCA_OCTT_admin_test')}",  # user not UTF-8
        ],
    )
    def test_malformed_header_refused(self, header: str | None) -> None:
        """Missing, non-Basic, non-base64 or colon-less credentials are refused, not raised."""
        assert parse_basic_auth(header) is None
        assert not check_basic_auth(header, SERIAL, HEX_KEY)

    def test_scheme_is_case_insensitive_and_password_may_hold_colons(self) -> None:
        """'basic' in any case is accepted and only the first colon splits user from password."""
        header = f"basic {b64(b'CB-0001:with:colons:16bytes')}"
        assert parse_basic_auth(header) == (SERIAL, b"with:colons:16bytes")
        assert check_basic_auth(header, SERIAL, "with:colons:16bytes")

    def test_hex_digits_sent_verbatim_only_accepted_on_request(self) -> None:
        """A libocpp-style header carrying the hex digits passes only with accept_hex_text."""
        header = f"Basic {b64(f'{SERIAL}:{HEX_KEY.lower()}'.encode())}"
        assert not check_basic_auth(header, SERIAL, HEX_KEY)
        assert check_basic_auth(header, SERIAL, HEX_KEY, accept_hex_text=True)

    def test_misconfigured_expected_key_raises(self) -> None:
        """An invalid expected key is a CSMS configuration bug, so it raises."""
        with pytest.raises(ValueError):
            check_basic_auth(basic_auth_header(SERIAL, HEX_KEY), SERIAL, "too-short")

    @pytest.mark.parametrize(("cp_id", "key"), [("a:b", HEX_KEY), ("", HEX_KEY), (SERIAL, b"x")])
    def test_header_builder_rejects_unsendable_credentials(
        self, cp_id: str, key: str | bytes
    ) -> None:
        """A colon in the id, an empty id or a short binary key cannot make a valid header."""
        with pytest.raises(ValueError):
            basic_auth_header(cp_id, key)


# Test PKI


class TestPki:
    def test_writes_documented_files_with_private_keys(self, pki: PkiFiles) -> None:
        """init_pki writes the documented file names and keys readable by the owner only."""
        names = sorted(p.name for p in pki.directory.iterdir())
        assert names == sorted(
            ["ca.pem", "ca.key", "csms.pem", "csms.key", "invalid-client.pem",
             "invalid-client.key", f"cp-{SERIAL}.pem", f"cp-{SERIAL}.key",
             f"cp-{OTHER_SERIAL}.pem", f"cp-{OTHER_SERIAL}.key"]
        )  # fmt: skip
        assert sorted(p.name for p in pki.paths()) == names
        for path in pki.paths():
            if path.suffix == ".key":
                assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_csms_certificate_names_loopback_and_localhost(self, pki: PkiFiles) -> None:
        """The CSMS certificate is issued by the CA for serverAuth on 127.0.0.1 and localhost."""
        ca, csms = load_cert(pki.ca_cert), load_cert(pki.csms_cert)
        csms.verify_directly_issued_by(ca)
        san = csms.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "localhost" in san.get_values_for_type(x509.DNSName)
        assert any(str(ip) == "127.0.0.1" for ip in san.get_values_for_type(x509.IPAddress))
        eku = csms.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]

    @pytest.mark.parametrize("serial", [SERIAL, OTHER_SERIAL])
    def test_charge_point_certificate_carries_serial_and_cpo(
        self, pki: PkiFiles, serial: str
    ) -> None:
        """Each charge point certificate has CN = serial, O = CPO name and chains to the CA."""
        cert = load_cert(pki.charge_points[serial][0])
        cert.verify_directly_issued_by(load_cert(pki.ca_cert))
        assert peer_identity(cert.public_bytes(serialization.Encoding.DER)).matches(serial, CPO)
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]

    def test_invalid_client_has_same_subject_but_untrusted_issuer(self, pki: PkiFiles) -> None:
        """The invalid cert names the first charge point and the CA but lacks the CA's signature."""
        cert, ca = load_cert(pki.invalid_client_cert), load_cert(pki.ca_cert)
        assert peer_identity(pki.invalid_client_cert.read_text()).matches(SERIAL, CPO)
        assert cert.issuer == ca.subject
        with pytest.raises(InvalidSignature):
            cert.verify_directly_issued_by(ca)

    def test_non_empty_directory_needs_overwrite(self, tmp_path: Path) -> None:
        """A non-empty directory is refused unless overwrite is given."""
        (tmp_path / "keep.txt").write_text("mine")
        with pytest.raises(FileExistsError):
            init_pki(tmp_path)
        files = init_pki(tmp_path, overwrite=True)
        assert files.charge_points == {}
        assert (tmp_path / "keep.txt").read_text() == "mine"

    @pytest.mark.parametrize("serial", ["", "../evil", "a/b", "10.0.0.1", "wss://host", "-x"])
    def test_serial_unfit_for_cn_or_file_name_rejected(self, tmp_path: Path, serial: str) -> None:
        """Serials that are paths, URLs or IP addresses (A00.FR.511) are rejected up front."""
        with pytest.raises(ValueError, match="serial"):
            init_pki(tmp_path / "pki", charge_points=[serial])
        assert not (tmp_path / "pki").exists()


class TestCertificateSigning:
    def test_csr_subject_is_serial_and_cpo(self) -> None:
        """make_csr puts the serial in CN and the CpoName in O (A02.FR.13)."""
        csr_pem, key_pem = make_csr(SERIAL, CPO)
        assert csr_identity(csr_pem).matches(SERIAL, CPO)
        assert serialization.load_pem_private_key(key_pem.encode(), password=None)

    def test_signed_certificate_chains_to_ca(self, pki: PkiFiles) -> None:
        """sign_csr issues a client certificate for the CSR's key and subject, signed by the CA."""
        csr_pem, _ = make_csr(SERIAL, CPO)
        cert_pem = sign_csr(csr_pem, pki.ca_cert.read_text(), pki.ca_key.read_bytes(), days=30)
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
        cert.verify_directly_issued_by(load_cert(pki.ca_cert))
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        assert cert.public_key() == csr.public_key()
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == SERIAL
        lifetime = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
        assert dt.timedelta(days=29) < lifetime <= dt.timedelta(days=30)

    def test_tampered_csr_refused(self, pki: PkiFiles) -> None:
        """A CSR whose signature does not verify is not signed."""
        csr_pem, _ = make_csr(SERIAL, CPO)
        der = bytearray(
            x509.load_pem_x509_csr(csr_pem.encode()).public_bytes(serialization.Encoding.DER)
        )
        der[-1] ^= 0x01  # last byte of the signature
        tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
        with pytest.raises(ValueError, match="signature"):
            sign_csr(tampered, pki.ca_cert.read_bytes(), pki.ca_key.read_bytes())

    def test_mismatched_ca_key_refused(self, pki: PkiFiles) -> None:
        """Signing with a key that is not the CA certificate's raises instead of issuing junk."""
        csr_pem, _ = make_csr(SERIAL, CPO)
        with pytest.raises(ValueError, match="CA key"):
            sign_csr(csr_pem, pki.ca_cert.read_bytes(), pki.csms_key.read_bytes())


class TestPeerIdentity:
    def test_reads_pem_and_der(self, pki: PkiFiles) -> None:
        """CN and O are read alike from PEM text and DER bytes."""
        cert = load_cert(pki.charge_points[SERIAL][0])
        der = cert.public_bytes(serialization.Encoding.DER)
        assert peer_identity(der) == peer_identity(pki.charge_points[SERIAL][0].read_text())
        assert not peer_identity(der).matches(SERIAL, "Another CPO")

    def test_garbage_raises(self) -> None:
        """Data that is not a certificate raises ValueError."""
        with pytest.raises(ValueError):
            peer_identity(b"\x30\x03\x02\x01\x00")


# Real TLS handshakes over 127.0.0.1


@contextlib.asynccontextmanager
async def ocpp_server(context: ssl.SSLContext) -> AsyncIterator[tuple[str, list[object]]]:
    """A wss server on an ephemeral port that tells each client what it saw of the handshake."""
    seen: list[object] = []

    async def handler(connection: ServerConnection) -> None:
        tls = connection.transport.get_extra_info("ssl_object")
        identity = peer_identity(tls) if tls.getpeercert(binary_form=True) else None
        seen.append(identity)
        await connection.send(
            json.dumps(
                {
                    "version": tls.version(),
                    "cipher": tls.cipher()[0],
                    "cn": identity and identity.common_name,
                    "o": identity and identity.organization,
                }
            )
        )

    async with serve(handler, "127.0.0.1", 0, ssl=context, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"wss://127.0.0.1:{port}/ocpp/{SERIAL}", seen


async def exchange(url: str, context: ssl.SSLContext, **kwargs: object) -> dict[str, str]:
    """Open a connection, return the server's report of the handshake, close."""
    async with connect(
        url, ssl=context, compression=None, proxy=None, open_timeout=TIMEOUT, **kwargs
    ) as ws:
        return json.loads(await ws.recv(decode=True))


def profile2_server(pki: PkiFiles) -> ssl.SSLContext:
    return server_ssl_context(pki.csms_cert, pki.csms_key)


def profile3_server(pki: PkiFiles) -> ssl.SSLContext:
    return server_ssl_context(pki.csms_cert, pki.csms_key, pki.ca_cert, require_client_cert=True)


def legacy_context(side: int, pki: PkiFiles) -> ssl.SSLContext:
    """A context that allows TLS 1.0/1.1, as an old charge point or a lax server would."""
    context = ssl.SSLContext(side)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    if side == ssl.PROTOCOL_TLS_SERVER:
        context.load_cert_chain(pki.csms_cert, pki.csms_key)
    else:
        context.load_verify_locations(pki.ca_cert)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.maximum_version = ssl.TLSVersion.TLSv1_1
    return context


class TestTlsHandshake:
    @pytest.mark.parametrize("server_hostname", [None, "localhost"])
    async def test_server_only_tls(self, pki: PkiFiles, server_hostname: str | None) -> None:
        """Profile 2: the charge point verifies the CSMS by IP or name over TLS >= 1.2."""
        async with ocpp_server(profile2_server(pki)) as (url, seen):
            report = await exchange(
                url, client_ssl_context(pki.ca_cert), server_hostname=server_hostname
            )
        assert report["version"] in {"TLSv1.2", "TLSv1.3"}
        assert seen == [None]

    async def test_mutual_tls_server_reads_cn_and_o(self, pki: PkiFiles) -> None:
        """Profile 3: the CSMS reads CN = serial number and O = CPO name from the client cert."""
        cert, key = pki.charge_points[SERIAL]
        async with ocpp_server(profile3_server(pki)) as (url, seen):
            report = await exchange(url, client_ssl_context(pki.ca_cert, cert, key))
        assert (report["cn"], report["o"]) == (SERIAL, CPO)
        assert seen[0].matches(SERIAL, CPO)  # type: ignore[attr-defined]

    @pytest.mark.parametrize("client", ["invalid-client", "no certificate"])
    async def test_mutual_tls_refuses_untrusted_or_missing_cert(
        self, pki: PkiFiles, client: str
    ) -> None:
        """Profile 3: an untrusted or missing client cert ends the connection (A00.FR.407)."""
        if client == "invalid-client":
            context = client_ssl_context(
                pki.ca_cert, pki.invalid_client_cert, pki.invalid_client_key
            )
        else:
            context = client_ssl_context(pki.ca_cert)
        async with ocpp_server(profile3_server(pki)) as (url, seen):
            with pytest.raises((OSError, InvalidHandshake)):
                await exchange(url, context)
        assert seen == []

    async def test_optional_client_cert_serves_profiles_2_and_3(self, pki: PkiFiles) -> None:
        """With a CA but no requirement, one port admits a cert-less and a certified client."""
        context = server_ssl_context(pki.csms_cert, pki.csms_key, pki.ca_cert)
        cert, key = pki.charge_points[OTHER_SERIAL]
        async with ocpp_server(context) as (url, seen):
            await exchange(url, client_ssl_context(pki.ca_cert))
            report = await exchange(url, client_ssl_context(pki.ca_cert, cert, key))
        assert seen[0] is None
        assert report["cn"] == OTHER_SERIAL

    async def test_tls_1_1_refused(self, pki: PkiFiles) -> None:
        """A TLS 1.1 charge point is refused (A00.FR.314), though a lax server would accept it."""
        client = legacy_context(ssl.PROTOCOL_TLS_CLIENT, pki)
        async with ocpp_server(profile2_server(pki)) as (url, seen):
            with pytest.raises(OSError):
                await exchange(url, client)
        assert seen == []
        async with ocpp_server(legacy_context(ssl.PROTOCOL_TLS_SERVER, pki)) as (url, _):
            assert (await exchange(url, client))["version"] == "TLSv1.1"

    async def test_client_refuses_certificate_for_another_host(self, pki: PkiFiles) -> None:
        """The charge point checks the CSMS certificate names the host it dialled (A00.FR.308)."""
        async with ocpp_server(profile2_server(pki)) as (url, _):
            with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
                await exchange(url, client_ssl_context(pki.ca_cert), server_hostname="csms.test")

    async def test_client_refuses_server_outside_cpo_hierarchy(self, pki: PkiFiles) -> None:
        """A server certificate that does not chain to the trusted CA is refused (A00.FR.310)."""
        rogue = server_ssl_context(pki.invalid_client_cert, pki.invalid_client_key)
        async with ocpp_server(rogue) as (url, seen):
            with pytest.raises(ssl.SSLCertVerificationError):
                await exchange(url, client_ssl_context(pki.ca_cert))
        assert seen == []

    @pytest.mark.parametrize(
        ("key_type", "cipher"),
        [
            ("ec", "ECDHE-ECDSA-AES128-GCM-SHA256"),
            ("ec", "ECDHE-ECDSA-AES256-GCM-SHA384"),
            ("rsa", "AES128-GCM-SHA256"),
            ("rsa", "AES256-GCM-SHA384"),
        ],
    )
    async def test_required_tls12_cipher_suites(
        self, request: pytest.FixtureRequest, key_type: str, cipher: str
    ) -> None:
        """The CSMS negotiates each of the four suites A00.FR.317 requires over TLS 1.2."""
        assert cipher in OCPP_TLS12_CIPHERS.split(":")
        files: PkiFiles = request.getfixturevalue("pki" if key_type == "ec" else "rsa_pki")
        client = client_ssl_context(files.ca_cert)
        client.maximum_version = ssl.TLSVersion.TLSv1_2
        client.set_ciphers(cipher)
        async with ocpp_server(profile2_server(files)) as (url, _):
            report = await exchange(url, client)
        assert (report["version"], report["cipher"]) == ("TLSv1.2", cipher)

    async def test_certificate_from_sign_csr_is_admitted(
        self, pki: PkiFiles, tmp_path: Path
    ) -> None:
        """A certificate issued through SignCertificate's CSR path passes profile 3."""
        csr_pem, key_pem = make_csr(OTHER_SERIAL, CPO)
        cert_path, key_path = tmp_path / "new.pem", tmp_path / "new.key"
        cert_path.write_text(sign_csr(csr_pem, pki.ca_cert.read_bytes(), pki.ca_key.read_bytes()))
        key_path.write_text(key_pem)
        async with ocpp_server(profile3_server(pki)) as (url, seen):
            await exchange(url, client_ssl_context(pki.ca_cert, cert_path, key_path))
        assert seen[0].matches(OTHER_SERIAL, CPO)  # type: ignore[attr-defined]


# CLI


def cli_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chargebench")
    pki_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def run_cli(*argv: str) -> int:
    args = cli_parser().parse_args(list(argv))
    return args.func(args)


class TestPkiCli:
    def test_init_prints_one_line_per_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`pki init DIR --cp A B` writes the PKI and prints each file it wrote, exit 0."""
        out_dir = tmp_path / "pki"
        assert run_cli("pki", "init", str(out_dir), "--cpo-name", CPO, "--cp", SERIAL,
                       OTHER_SERIAL) == 0
        lines = capsys.readouterr().out.splitlines()
        written = sorted(out_dir.iterdir())
        assert len(lines) == len(written) == 10
        assert sorted(Path(line.split("  ")[0]) for line in lines) == written
        assert peer_identity((out_dir / f"cp-{OTHER_SERIAL}.pem").read_text()).matches(
            OTHER_SERIAL, CPO
        )

    def test_non_empty_dir_needs_force(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A non-empty DIR without --force is a one-line usage error (exit 2); --force writes."""
        (tmp_path / "other").write_text("x")
        assert run_cli("pki", "init", str(tmp_path)) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1
        assert "--force" in err
        assert run_cli("pki", "init", str(tmp_path), "--force") == 0
        assert (tmp_path / "ca.pem").exists()

    def test_bad_serial_is_usage_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An unusable serial is reported on one line with exit 2."""
        assert run_cli("pki", "init", str(tmp_path / "pki"), "--cp", "10.0.0.1") == 2
        assert len(capsys.readouterr().err.splitlines()) == 1
