"""Rows of the security cases for a charge point under test (security whitepaper edition 3),
and the material they need: ChargeBench's PKI (`--cb-ca`, `--cb-ca-key`), a second, untrusted
PKI made for the run (a rogue CA, a server certificate the charger must refuse, a firmware
signing certificate), fresh AuthorizationKeys.

The charger's security profile only goes up (A05.FR.01, A05.FR.09), so a case does not undo
what it did; instead each case starts with `AtLeast(n)`, OCTT's "reusable state": the charger
is raised the A05 way to profile n when it is below (key, root certificate, client certificate,
SecurityProfile, reconnect), and the row checks it really connected with profile n. The case
table orders the cases from profile 1 up, so one run walks the charger 0 -> 1 -> 2 -> 3.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chargebench.security import (
    csr_identity,
    generate_authorization_key,
    init_pki,
    server_ssl_context,
    sign_csr,
)
from conformance.expect import Required, present
from conformance.steps import Call, Context, Expect, Reconnect, Send, Step, Svc, Var

CSMS_ROOT = "CentralSystemRootCertificate"
MANUFACTURER_ROOT = "ManufacturerRootCertificate"


@dataclass
class SecurityKit:
    """The run's certificates and keys (built once per run, on first use)."""

    ca: Path | None
    ca_key: Path | None
    cpo_name: str
    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cb-sec-")))

    def close(self) -> None:
        """Remove the work folder (the rogue PKI): nothing of a run stays in the temp dir."""
        shutil.rmtree(self.work, ignore_errors=True)

    def _need_ca(self) -> tuple[Path, Path]:
        if self.ca is None or self.ca_key is None:
            raise AssertionError("the security cases need --cb-ca and --cb-ca-key "
                                 "(ChargeBench's CA: it signs the charger's CSR)")
        return self.ca, self.ca_key

    @property
    def ca_pem(self) -> str:
        return self._need_ca()[0].read_text("ascii")

    def sign(self, csr: str) -> str:
        """A ChargePointCertificate from our CA for the charger's CSR (A02)."""
        ca, key = self._need_ca()
        return sign_csr(csr, ca.read_bytes(), key.read_bytes())

    @cached_property
    def rogue(self) -> Any:
        """A PKI nobody trusts: its CA, a server certificate and a firmware signer."""
        return init_pki(self.work / "rogue", cpo_name=self.cpo_name, charge_points=["CBFWSIGN"])

    def sign_rogue(self, csr: str) -> str:
        """A certificate for the CSR from a CA outside the charger's hierarchy (A02.FR.06)."""
        return sign_csr(csr, self.rogue.ca_cert.read_bytes(), self.rogue.ca_key.read_bytes())

    def untrusted_server_context(self) -> Any:
        return server_ssl_context(self.rogue.csms_cert, self.rogue.csms_key)

    # Firmware signing (L01): the rogue CA doubles as the manufacturer root we install

    @property
    def manufacturer_root(self) -> str:
        return self.rogue.ca_cert.read_text("ascii")

    @property
    def signing_certificate(self) -> str:
        cert, _ = self.rogue.charge_points["CBFWSIGN"]
        return cert.read_text("ascii")

    def signature(self, data: bytes) -> str:
        """L01.FR.04: over the whole file, SHA-256 (ECDSA), base64."""
        _, key_path = self.rogue.charge_points["CBFWSIGN"]
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return base64.b64encode(key.sign(data, ec.ECDSA(hashes.SHA256()))).decode("ascii")


def kit(ctx: Context) -> SecurityKit:
    return ctx.services["security"]


def serial_of(pem: str) -> str:
    """serialNumber of CertificateHashDataType (whitepaper 6.1): hex, no leading zeroes."""
    return format(x509.load_pem_x509_certificate(pem.encode("ascii")).serial_number, "x")


def same_serial(pem_of: Any) -> Any:
    """A matcher: a certificateHashData entry for the certificate `pem_of(ctx)` gives."""
    return Svc(lambda ctx: {"serialNumber": _ci(serial_of(pem_of(ctx)))})


class _ci:
    """Case-insensitive, leading-zero-insensitive hex match (CiString, 6.1)."""

    def __init__(self, value: str) -> None:
        self.value = value.lower().lstrip("0")

    def __call__(self, other: Any) -> bool:
        return isinstance(other, str) and other.lower().lstrip("0") == self.value

    def __repr__(self) -> str:
        return f"<serial {self.value}>"


# Rows


@dataclass(frozen=True)
class Secured(Step):
    """The live connection was admitted with security `profile` (whitepaper §2): for 1 and 2
    with the AuthorizationKey we set last, for 2 and 3 over TLS, for 3 with a client
    certificate whose O is the CPO name and whose CN is the one in the charger's CSR."""

    profile: int | None = None
    minimum: int = 0

    async def run(self, ctx: Context) -> None:
        got = ctx.peer.security
        want = f"profile {self.profile}" if self.profile is not None \
            else f"profile >= {self.minimum}"
        seen = got.describe() if got is not None else "a connection of unknown security"
        problem = None
        if got is None or (self.profile is not None and got.profile != self.profile) or \
                got.profile < self.minimum:
            problem = "another profile"
        elif got.profile in (1, 2) and got.key != ctx.listener.password:
            problem = "not the AuthorizationKey set last"
        elif got.profile == 3:
            cpo = ctx.services["settings"].capabilities.cpo_name
            cn = ctx.vars.get("csr_cn")
            if got.client.organization != cpo or (cn is not None and got.client.common_name != cn):
                problem = f"a certificate not for O={cpo} CN={cn} (A00.FR.404/405)"
        if problem is not None:
            raise AssertionError(f"expected a connection at security {want}; received: {seen} "
                                 f"({problem})")


@dataclass(frozen=True)
class NewKey(Step):
    """ChangeConfiguration AuthorizationKey with a fresh random key (A01.FR.02, A01.FR.07,
    OCPP-J §6.2.2: 40 hex digits); once Accepted only the new key is admitted (A01.FR.03)."""

    async def run(self, ctx: Context) -> None:
        key, old = generate_authorization_key(), ctx.listener.password
        ctx.listener.password = key  # the charger may reconnect before we read the reply
        try:
            await ctx.peer.request("ChangeConfiguration", {"key": "AuthorizationKey",
                                                          "value": key}, {"status": "Accepted"})
        except BaseException:
            ctx.listener.password = old  # A01.FR.04: not changed, keep the old one
            raise


def _security_profile(value: Any, status: str) -> Send:
    return Send("ChangeConfiguration", {"key": "SecurityProfile", "value": value},
                {"status": status})


INSTALL_CSMS_ROOT = Send("InstallCertificate", {
    "certificateType": CSMS_ROOT, "certificate": Svc(lambda ctx: kit(ctx).ca_pem),
}, {"status": "Accepted"})


def _sign(signer: str) -> Call:
    def sign(ctx: Context) -> None:
        csr = ctx.vars.get("csr")
        assert csr, "no CSR saved by an earlier step"
        identity = csr_identity(csr)
        cpo = ctx.services["settings"].capabilities.cpo_name
        assert identity.organization == cpo, (
            f"expected a CSR with O={cpo} (CpoName, A02.FR.13); received O="
            f"{identity.organization}, CN={identity.common_name}")
        ctx.vars["csr_cn"] = identity.common_name
        ctx.vars["chain"] = getattr(kit(ctx), signer)(csr)

    return Call(sign)


def csr_signed(signer: str = "sign", expect: str = "Accepted") -> tuple[Step, ...]:
    """A02: ExtendedTriggerMessage SignChargePointCertificate, the charger's SignCertificate
    with a PEM CSR (A02.FR.02/03), our CA's (or a rogue CA's) certificate back in
    CertificateSigned, answered `expect` (A02.FR.06/07)."""
    return (
        Send("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"},
             {"status": "Accepted"}),
        Expect("SignCertificate", {"csr": present}, save={"csr": "csr"}, within=2),
        _sign(signer),
        Send("CertificateSigned", {"certificateChain": Var("chain")}, {"status": expect}),
    )


def raise_to(profile: int) -> tuple[Step, ...]:
    """The A05 prerequisites of `profile`, then SecurityProfile Accepted (A05.FR.05) and the
    reconnect with it (A05.FR.06/07), which must be admitted at exactly that profile."""
    before: dict[int, tuple[Step, ...]] = {
        1: (NewKey(),),  # A05.FR.02: profiles 1 and 2 need an AuthorizationKey
        2: (INSTALL_CSMS_ROOT,),  # A05.FR.03: a valid CentralSystemRootCertificate
        3: (INSTALL_CSMS_ROOT, *csr_signed()),  # A05.FR.04: a valid ChargePointCertificate
    }
    return (*before[profile], _security_profile(str(profile), "Accepted"),
            Reconnect(boot=False), Secured(profile), NoBoot())


@dataclass(frozen=True)
class AtLeast(Step):
    """Before: the charger at security profile `profile` or higher; raised one profile at a
    time (`raise_to`) when it is below."""

    profile: int

    async def run(self, ctx: Context) -> None:
        current = ctx.peer.security.profile if ctx.peer.security is not None else 0
        for target in range(current + 1, self.profile + 1):
            for step in raise_to(target):
                await step.run(ctx)


@dataclass(frozen=True)
class Upgrade(Step):
    """TC_083: one profile up from where the charger is (A05.FR.05-07)."""

    async def run(self, ctx: Context) -> None:
        import pytest

        current = ctx.peer.security.profile if ctx.peer.security is not None else 0
        if current >= 3:
            pytest.skip("not applicable: the charger is at security profile 3, the highest")
        for step in raise_to(current + 1):
            await step.run(ctx)


@dataclass(frozen=True)
class NoBoot(Step):
    """A reconnect for new security settings is no reboot (OCPP 1.6 §4.2): no
    BootNotification on the new connection."""

    during: float = 0.1

    async def run(self, ctx: Context) -> None:
        from conformance.steps import Absent

        await Absent("BootNotification", during=self.during).run(ctx)


@dataclass(frozen=True)
class StaysConnected(Step):
    """A refused change leaves the connection as it is (A05.FR.01-04: "not ... reconnect")."""

    during: float = 0.3

    async def run(self, ctx: Context) -> None:
        import asyncio

        peer = ctx.peer
        await asyncio.sleep(self.during)
        if peer.closed or ctx.listener.current is not peer:
            raise AssertionError(f"expected the connection to stay up for {self.during:g} s "
                                 "after a Rejected SecurityProfile; received: a reconnect")


def lower_profile(ctx: Context) -> str:
    return str(ctx.peer.security.profile - 1)


def same_profile(ctx: Context) -> str:
    return str(ctx.peer.security.profile)


# The security log (N01), read back from our file host


def security_log(*must_contain: str) -> tuple[Step, ...]:
    """GetLog SecurityLog to our FTP server (N01.FR.01), LogStatusNotification Uploading and
    Uploaded with our requestId, and the uploaded file holds each of `must_contain`."""

    def check(ctx: Context) -> None:
        name = ctx.vars.get("log")
        files = ctx.services["files"]
        assert name in files.uploads(), (
            f"expected {name} on the harness's file server; received {files.uploads()}")
        text = (files.root / "uploads" / name).read_text("utf-8", "replace")
        assert text.strip(), f"expected a security log in {name}; received an empty file"
        missing = [word for word in must_contain if word not in text]
        assert not missing, (f"expected security events {missing} in the uploaded security "
                             f"log (A04.FR.04); received:\n{text[-1500:]}")

    return (
        Send("GetLog", {"logType": "SecurityLog", "requestId": 79, "log": {
            "remoteLocation": Svc(lambda ctx: ctx.services["files"].upload_ftp)}},
            {"status": "Accepted", "filename": present}, save={"log": "filename"}),
        # requestId: optional in the schema, mandatory unless triggered (N01.FR.07, N01.FR.12)
        Expect("LogStatusNotification", {"status": "Uploading", "requestId": Required(79)},
               within=2),
        Expect("LogStatusNotification", {"status": "Uploaded", "requestId": Required(79)},
               within=2),
        Call(check),
    )


# A server certificate the charger must refuse (A00.FR.309/310, A00.FR.413/414)


async def present_untrusted_certificate(ctx: Context) -> None:
    """From now on wss:// connections get a certificate outside the charger's trust; the live
    connection is closed so that the charger must try."""
    await ctx.listener.use_server_context(kit(ctx).untrusted_server_context())
    ctx.vars["attempts"] = ctx.listener.tls_attempts
    await ctx.peer.close()


async def refused_then_trusted(ctx: Context) -> None:
    """The charger tried the untrusted certificate and gave up (no session came of it);
    then the right certificate is back."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.timeout * 2
    while ctx.listener.tls_attempts <= ctx.vars["attempts"] and loop.time() < deadline:
        await asyncio.sleep(0.02)
    tried = ctx.listener.tls_attempts > ctx.vars["attempts"]
    await ctx.listener.use_server_context(None)
    assert tried, (f"expected the charger to try a wss:// connection within "
                   f"{ctx.timeout * 2:g} s; received: none")


def roots(kind: str) -> Send:
    return Send("GetInstalledCertificateIds", {"certificateType": kind},
                {"status": "Accepted"}, save={"hashes": "certificateHashData"})


def hash_entry(pem_of: Any) -> Svc:
    """The charger's own certificateHashData entry (saved as "hashes") for a certificate."""

    def pick(ctx: Context) -> dict:
        wanted = _ci(serial_of(pem_of(ctx)))
        entries: Iterable[dict] = ctx.vars.get("hashes") or []
        for entry in entries:
            if wanted(entry.get("serialNumber")):
                return entry
        raise AssertionError(f"expected {wanted!r} among the installed certificates; "
                             f"received {ctx.vars.get('hashes')}")

    return Svc(pick)


def not_listed(pem_of: Any) -> Call:
    def check(ctx: Context) -> None:
        wanted = _ci(serial_of(pem_of(ctx)))
        listed = [e for e in ctx.vars.get("after") or [] if wanted(e.get("serialNumber"))]
        assert not listed, f"expected {wanted!r} deleted (M04.FR.02); still installed: {listed}"

    return Call(check)
