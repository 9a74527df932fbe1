"""The certificate states of part 6 §3.18 with a CSMS under test, ChargeBench as the Charging
Station (`conformance.v201.station.Station`): CertificateInstalled (Table 709),
GetInstalledCertificates (Table 708) and the memory state RenewChargingStationCertificate
(Table 711)."""

from __future__ import annotations

import hashlib

from chargebench.security import make_csr
from conformance.chargepoint import sample_certificate
from conformance.expect import present
from conformance.v201.station import Station, absent, absent_or


async def certificate_installed(cs: Station, kind: str, status: str = "Accepted") -> dict:
    """Reusable State CertificateInstalled (Table 709): the CSMS sends InstallCertificate with
    `kind` and the configured certificate; the station answers `status`."""
    request = {"certificateType": kind, "certificate": sample_certificate()}
    return await cs.command("InstallCertificate", request, {"status": status})


def hash_data(kind: str, algorithm: str = "SHA256") -> dict:
    """CertificateHashDataChainType of the configured certificate of `kind` (M03)."""
    digest = {"SHA256": hashlib.sha256, "SHA384": hashlib.sha384,
              "SHA512": hashlib.sha512}[algorithm]
    pem = sample_certificate().encode()
    return {"certificateType": kind, "certificateHashData": {
        "hashAlgorithm": algorithm, "issuerNameHash": digest(b"name" + pem).hexdigest(),
        "issuerKeyHash": digest(b"key" + pem).hexdigest(), "serialNumber": "1"}}


async def installed_certificates(cs: Station, kind: str | None,
                                 algorithm: str = "SHA256") -> dict:  # fmt: skip
    """Reusable State GetInstalledCertificates (Table 708): the CSMS sends
    GetInstalledCertificateIds for `kind` (None: every type, certificateType omitted); the
    station answers Accepted with the hash data of its certificate; returns that entry."""
    entry = hash_data(kind or "CSMSRootCertificate", algorithm)
    request = {} if kind is None else {"certificateType": [kind]}
    expect = {"certificateType": absent} if kind is None else request
    await cs.command("GetInstalledCertificateIds", request,
                     {"status": "Accepted", "certificateHashDataChain": [entry]}, expect)
    return entry


async def renew_station_certificate(cs: Station, answer: str = "Accepted") -> dict:
    """Memory State RenewChargingStationCertificate (Table 711): TriggerMessage
    SignChargingStationCertificate; the CSR is Accepted; the CSMS sends CertificateSigned of
    type ChargingStationCertificate (absent means that type, A02.FR.15) with the chain; the
    station answers `answer`. Returns the CertificateSigned payload."""
    await cs.command("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"},
                     {"status": "Accepted"})
    cs.peer.handlers["CertificateSigned"] = lambda _: {"status": answer}
    csr, _key = make_csr(cs.peer.cp_id, cs.cb.capabilities.cpo_name)
    await cs.ask("SignCertificate", {"csr": csr, "certificateType": "ChargingStationCertificate"},
                 {"status": "Accepted"})
    signed = await cs.peer.wait_for("CertificateSigned", {
        "certificateChain": present,
        "certificateType": absent_or("ChargingStationCertificate")})
    assert "BEGIN CERTIFICATE" in signed.payload["certificateChain"], signed.describe()
    return signed.payload
