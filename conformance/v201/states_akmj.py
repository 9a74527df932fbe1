"""States of part 6 for the A, K, M and J cases with a Charging Station under test: the
certificate states (Memory State CertificateInstalled, Table 442; Reusable State
GetInstalledCertificates, Table 438) and the certificates the OCTT is "configured" with
(<Configured new CSMS Root certificate>, <Generated Expired Certificate>), made for the run.

A certificate is matched in a GetInstalledCertificateIdsResponse by its CertificateHashDataType
(whitepaper 6.1, RFC 6960 CertID) computed with the hashAlgorithm the station chose: every
algorithm part 2 allows (SHA256, SHA384, SHA512) is accepted, hex compared case-insensitively,
the serial without leading zeroes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conformance.expect import Mismatch
from conformance.v201.states import Cs

__all__ = ["Root", "absolute_profile", "certificate_installed", "composite", "delete",
           "expect_limits", "installed_certificates", "limit_at", "listed", "root",
           "same_hash"]

_HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}


@dataclass(frozen=True)
class Root:
    """A self-signed root CA certificate the OCTT installs (P-256, CA, keyCertSign)."""

    pem: str
    certificate: x509.Certificate

    def hash_data(self, algorithm: str = "SHA256") -> dict[str, str]:
        """CertificateHashDataType (whitepaper 6.1): issuerNameHash over the DER issuer
        name, issuerKeyHash over the issuer's public key bits, serialNumber in hex."""
        cert = self.certificate
        key_bits = cert.public_key().public_bytes(serialization.Encoding.X962,
                                                  serialization.PublicFormat.UncompressedPoint)
        return {"hashAlgorithm": algorithm,
                "issuerNameHash": _digest(algorithm, cert.issuer.public_bytes()),
                "issuerKeyHash": _digest(algorithm, key_bits),
                "serialNumber": format(cert.serial_number, "x")}


def _digest(algorithm: str, data: bytes) -> str:
    h = hashes.Hash(_HASHES[algorithm]())
    h.update(data)
    return h.finalize().hex()


def _make_root(name: str, *, expired: bool = False) -> Root:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ChargeBench OCTT"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    # a station's clock may run ahead (an accelerated simulator): valid for a year
    start, end = (now - timedelta(days=60), now - timedelta(days=30)) if expired else (
        now - timedelta(days=1), now + timedelta(days=365))
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          key_cert_sign=True, crl_sign=True, encipher_only=False,
                          decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256()))
    return Root(cert.public_bytes(serialization.Encoding.PEM).decode("ascii"), cert)


@cache
def root(kind: str, *, expired: bool = False) -> Root:
    """The run's configured root of `kind` (CSMSRootCertificate, ...; one per run), or the
    <Generated Expired Certificate>."""
    return _make_root(f"ChargeBench OCTT {kind}{' expired' if expired else ''}",
                      expired=expired)


def same_hash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two CertificateHashDataType equal (CiString hex, serial without leading zeroes)."""
    def norm(d: dict[str, Any]) -> tuple[str, ...]:
        return (str(d.get("hashAlgorithm", "")).upper(),
                str(d.get("issuerNameHash", "")).lower(),
                str(d.get("issuerKeyHash", "")).lower(),
                str(d.get("serialNumber", "")).lower().lstrip("0") or "0")
    return norm(a) == norm(b)


def listed(reply: dict, cert: Root, kind: str | None = None) -> bool:
    """`cert` is in a GetInstalledCertificateIdsResponse (as `kind` when given)."""
    for entry in reply.get("certificateHashDataChain") or ():
        data = entry.get("certificateHashData") or {}
        algorithm = str(data.get("hashAlgorithm", "SHA256")).upper()
        if algorithm not in _HASHES:
            continue
        if same_hash(data, cert.hash_data(algorithm)) and (
                kind is None or entry.get("certificateType") == kind):
            return True
    return False


async def certificate_installed(cs: Cs, kind: str, cert: Root | None = None) -> Root:
    """Memory State CertificateInstalled (Table 442): InstallCertificateRequest of `kind`
    with the configured certificate; the station must answer Accepted (M05.FR.02)."""
    cert = cert or root(kind)
    await cs.ask("InstallCertificate", {"certificateType": kind, "certificate": cert.pem},
                 {"status": "Accepted"})
    return cert


async def installed_certificates(cs: Cs, kinds: list[str] | None,
                                 expect: tuple[tuple[str, Root], ...] = ()) -> dict:
    """Reusable State GetInstalledCertificates (Table 438): GetInstalledCertificateIdsRequest
    for `kinds` (None: certificateType omitted); Accepted, and each of `expect` (type,
    certificate) listed as that type (M03.FR.03/04). Returns the response."""
    payload = {} if kinds is None else {"certificateType": kinds}
    reply = await cs.ask("GetInstalledCertificateIds", payload, {"status": "Accepted"})
    for kind, cert in expect:
        if not listed(reply, cert, kind):
            raise Mismatch(f"certificateHashDataChain {reply.get('certificateHashDataChain')}"
                           f" has no {kind} with the hash data of the installed certificate "
                           f"(serial {cert.hash_data()['serialNumber']})",
                           f"an entry of {kind} for the installed certificate")
    return reply


async def delete(cs: Cs, cert: Root, kind: str) -> None:
    """Undo a case's CertificateInstalled: DeleteCertificate with the hash data the station
    reported for it (whatever its answer: the case already has its verdict)."""
    reply = await cs.peer.call("GetInstalledCertificateIds", {"certificateType": [kind]})
    for entry in (reply.payload or {}).get("certificateHashDataChain") or ():
        data = entry.get("certificateHashData") or {}
        algorithm = str(data.get("hashAlgorithm", "SHA256")).upper()
        if algorithm in _HASHES and same_hash(data, cert.hash_data(algorithm)):
            await cs.peer.call("DeleteCertificate", {"certificateHashData": data})


# K: charging profiles and composite schedules ------------------------------------------------


def absolute_profile(cs: Cs, profile_id: int, purpose: str, periods: list[tuple[int, float]],
                     *, duration: int | None = None, stack: int = 0, unit: str = "A",
                     phases: int = 3, start: float = 0, **extra: Any) -> dict:
    """A ChargingProfileType, Absolute, one schedule starting `start` s from now on the
    station's clock, `periods` (startPeriod, limit)."""
    schedule: dict[str, Any] = {
        "id": profile_id, "startSchedule": cs.time(start), "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": limit, "numberPhases": phases}
                                   for s, limit in periods]}
    if duration is not None:
        schedule["duration"] = duration
    return {"id": profile_id, "stackLevel": stack, "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute", "chargingSchedule": [schedule], **extra}


def limit_at(periods: list[dict], offset: float) -> float | None:
    """The limit a schedule's chargingSchedulePeriod holds `offset` s after its start."""
    found = None
    for period in sorted(periods, key=lambda p: p["startPeriod"]):
        if period["startPeriod"] <= offset:
            found = float(period["limit"])
    return found


async def composite(cs: Cs, evse_id: int, duration: int, unit: str = "A") -> dict:
    """GetCompositeScheduleRequest: Accepted, the schedule of `evse_id`, `duration` and
    `unit` (K08.FR.02); returns the schedule."""
    reply = await cs.ask("GetCompositeSchedule", {"evseId": evse_id, "duration": duration,
                                                  "chargingRateUnit": unit},
                         {"status": "Accepted", "schedule": {
                             "evseId": evse_id, "chargingRateUnit": unit}})
    schedule = reply["schedule"]
    if abs(int(schedule.get("duration", duration)) - duration) > 4:  # part 6 §2.1 deviation
        raise Mismatch(f"schedule duration {schedule.get('duration')}",
                       f"duration {duration}")
    return schedule


def expect_limits(schedule: dict, since: str, expected: list[tuple[float, float, float]]
                  ) -> None:
    """The composite `schedule` holds, for each (from, to, limit) counted in seconds from
    `since` (the profile's startSchedule), `limit` in the middle of that span: the shift x
    between `since` and the schedule's scheduleStart (part 6's "period of time ... called x")
    is taken from the response, so a station's answer is judged at the time it describes."""
    start = datetime.fromisoformat(schedule["scheduleStart"])
    x = (start - datetime.fromisoformat(since)).total_seconds()
    duration = float(schedule.get("duration", 0))
    for low, high, limit in expected:
        middle = (low + high) / 2 - x
        if not 0 <= middle < duration:
            continue
        got = limit_at(schedule["chargingSchedulePeriod"], middle)
        if got is None or abs(got - limit) > 1e-6:
            raise Mismatch(
                f"at {middle:g} s of the composite schedule (scheduleStart "
                f"{schedule['scheduleStart']}) the limit is {got}; periods "
                f"{schedule['chargingSchedulePeriod']}",
                f"limit {limit:g} between {low - x:g} s and {high - x:g} s")
