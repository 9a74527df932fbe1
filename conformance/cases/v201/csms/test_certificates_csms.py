"""OCPP 2.0.1 part 6 §3.14, M Certificate Management, with a CSMS under test: the reusable
states CertificateInstalled and GetInstalledCertificates (Tables 708, 709) and the cases
built on them."""

from __future__ import annotations

import pytest

from conformance.v201.station import Station
from conformance.v201.station_certificates import certificate_installed, installed_certificates


@pytest.mark.parametrize("kind", [
    pytest.param("CSMSRootCertificate", id="TC_M_01_CSMS", marks=pytest.mark.octt("TC_M_01_CSMS")),
    pytest.param("ManufacturerRootCertificate", id="TC_M_02_CSMS",
                 marks=pytest.mark.octt("TC_M_02_CSMS")),
    pytest.param("V2GRootCertificate", id="TC_M_03_CSMS", marks=pytest.mark.octt("TC_M_03_CSMS")),
    pytest.param("MORootCertificate", id="TC_M_04_CSMS", marks=pytest.mark.octt("TC_M_04_CSMS")),
])
async def test_install_certificate(cs: Station, kind: str):
    """TC_M_01-04_CSMS: Reusable State CertificateInstalled for each root type."""
    await cs.boot()
    await certificate_installed(cs, kind)
    await cs.still_serving()


@pytest.mark.octt("TC_M_05_CSMS")
async def test_install_certificate_failed(cs: Station):
    """TC_M_05_CSMS: InstallCertificate CSMSRootCertificate answered Failed; the CSMS copes."""
    await cs.boot()
    await certificate_installed(cs, "CSMSRootCertificate", "Failed")
    await cs.still_serving()


@pytest.mark.parametrize("kinds", [
    pytest.param(["CSMSRootCertificate"], id="TC_M_12_CSMS",
                 marks=pytest.mark.octt("TC_M_12_CSMS")),
    pytest.param(["ManufacturerRootCertificate"], id="TC_M_13_CSMS",
                 marks=pytest.mark.octt("TC_M_13_CSMS")),
    pytest.param(["V2GRootCertificate"], id="TC_M_14_CSMS",
                 marks=pytest.mark.octt("TC_M_14_CSMS")),
    pytest.param(["V2GCertificateChain"], id="TC_M_15_CSMS",
                 marks=pytest.mark.octt("TC_M_15_CSMS")),
    pytest.param(["MORootCertificate"], id="TC_M_16_CSMS",
                 marks=pytest.mark.octt("TC_M_16_CSMS")),
    pytest.param(["CSMSRootCertificate", "ManufacturerRootCertificate"], id="TC_M_17_CSMS",
                 marks=pytest.mark.octt("TC_M_17_CSMS")),
])
async def test_get_installed_certificates(cs: Station, kinds: list[str]):
    """TC_M_12-17_CSMS: Reusable State GetInstalledCertificates per type (M_12: with each hash
    algorithm the station may answer in)."""
    await cs.boot()
    algorithms = ("SHA256", "SHA384", "SHA512") if kinds == ["CSMSRootCertificate"] else (
        "SHA256",)
    for kind in kinds:
        for algorithm in algorithms:
            await installed_certificates(cs, kind, algorithm)


@pytest.mark.octt("TC_M_18_CSMS")
async def test_get_all_installed_certificates(cs: Station):
    """TC_M_18_CSMS: GetInstalledCertificateIds with certificateType omitted."""
    await cs.boot()
    await installed_certificates(cs, None)


@pytest.mark.octt("TC_M_19_CSMS")
async def test_no_matching_certificate(cs: Station):
    """TC_M_19_CSMS: GetInstalledCertificateIds of ManufacturerRootCertificate answered
    NotFound without a chain; the CSMS copes."""
    await cs.boot()
    request = {"certificateType": ["ManufacturerRootCertificate"]}
    await cs.command("GetInstalledCertificateIds", request, {"status": "NotFound"})
    await cs.still_serving()


@pytest.mark.parametrize("answer", [
    pytest.param("Accepted", id="TC_M_20_CSMS", marks=pytest.mark.octt("TC_M_20_CSMS")),
    pytest.param("Failed", id="TC_M_21_CSMS", marks=pytest.mark.octt("TC_M_21_CSMS")),
])
async def test_delete_certificate(cs: Station, answer: str):
    """TC_M_20/21_CSMS: CertificateInstalled CSMSRootCertificate, the CSMS reads the installed
    ids (CSMSRootCertificate or every type) and sends DeleteCertificate with exactly the hash
    data the station returned; Accepted (per hash algorithm, M_20) or Failed (M_21)."""
    await cs.boot()
    algorithms = ("SHA256", "SHA384", "SHA512") if answer == "Accepted" else ("SHA256",)
    for algorithm in algorithms:
        if answer == "Accepted" or algorithm == "SHA256":
            await certificate_installed(cs, "CSMSRootCertificate")
        entry = await installed_certificates(cs, "CSMSRootCertificate", algorithm)
        await cs.command("DeleteCertificate", {"certificateHashData":
                                               entry["certificateHashData"]},
                         {"status": answer})  # fmt: skip
