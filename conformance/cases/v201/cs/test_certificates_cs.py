"""OCPP 2.0.1 part 6 §2.14, M ISO 15118 CertificateManagement, with a Charging Station under
test: installing root certificates (M05), listing them (M03) and deleting them (M04).

The cases of the ISO 15118 profile (V2G and MO roots) are not applicable to a station without
ISO15118Ctrlr (its device model); the TLS cases of AdditionalRootCertificateCheck (TC_M_30/31),
the V2GCertificateChain (TC_M_15), the Charging Station certificate (TC_M_23) and the EV's
certificate requests (TC_M_24-29) are not implemented. Each case deletes what it installed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from conformance.expect import Mismatch, one_of
from conformance.v201.states import Cs
from conformance.v201.states_akmj import (
    Root,
    certificate_installed,
    delete,
    installed_certificates,
    listed,
    root,
)

CSMS, MANUFACTURER = "CSMSRootCertificate", "ManufacturerRootCertificate"
V2G, MO = "V2GRootCertificate", "MORootCertificate"
#: part 6: "The Charging Station does NOT have AdditionalRootCertificateCheck ... true"
#: (a CSMS root of the OCTT's own would then have to be signed by the one installed)
NO_ADDITIONAL_CHECK = pytest.mark.cb_requires("SecurityCtrlr", "AdditionalRootCertificateCheck",
                                              equals="false")


class Installed:
    """What a case installed, deleted again after it."""

    def __init__(self, cs: Cs) -> None:
        self.cs = cs
        self.certs: list[tuple[str, Root]] = []

    async def __call__(self, kind: str, cert: Root | None = None) -> Root:
        cert = cert or root(kind)
        self.certs.append((kind, cert))
        return await certificate_installed(self.cs, kind, cert)


@pytest_asyncio.fixture(loop_scope="session")
async def install(cs: Cs) -> AsyncIterator[Installed]:
    installed = Installed(cs)
    yield installed
    for kind, cert in installed.certs:
        try:
            await delete(cs, cert, kind)
        except (AssertionError, TimeoutError):
            break  # the connection is gone: the next case's fixture reports it


async def _install_and_list(install: Installed, kind: str) -> None:
    cert = await install(kind)
    await installed_certificates(install.cs, [kind], ((kind, cert),))


@pytest.mark.octt("TC_M_01_CS")
@NO_ADDITIONAL_CHECK
async def test_install_csms_root(cs: Cs, install: Installed):
    """TC_M_01_CS: CertificateInstalled CSMSRootCertificate (Accepted, M05.FR.02), then listed
    by GetInstalledCertificateIds (M03.FR.03/04)."""
    await _install_and_list(install, CSMS)


@pytest.mark.octt("TC_M_02_CS")
async def test_install_manufacturer_root(cs: Cs, install: Installed):
    """TC_M_02_CS: CertificateInstalled ManufacturerRootCertificate, then listed."""
    await _install_and_list(install, MANUFACTURER)


@pytest.mark.octt("TC_M_03_CS")
@NO_ADDITIONAL_CHECK
async def test_install_v2g_root(cs: Cs, install: Installed):
    """TC_M_03_CS: CertificateInstalled V2GRootCertificate, then listed."""
    await _install_and_list(install, V2G)


@pytest.mark.octt("TC_M_04_CS")
@NO_ADDITIONAL_CHECK
async def test_install_mo_root(cs: Cs, install: Installed):
    """TC_M_04_CS: CertificateInstalled MORootCertificate, then listed."""
    await _install_and_list(install, MO)


@pytest.mark.octt("TC_M_07_CS")
@NO_ADDITIONAL_CHECK
async def test_install_expired_root(cs: Cs):
    """TC_M_07_CS: an expired CSMSRootCertificate is Rejected (M05.FR.07) and not listed
    afterwards. Part 6 asks Accepted of the listing; a station holding no CSMS root at all
    answers NotFound (M03.FR.02), which is accepted too."""
    expired = root(CSMS, expired=True)
    await cs.ask("InstallCertificate", {"certificateType": CSMS, "certificate": expired.pem},
                 {"status": "Rejected"})
    reply = await cs.ask("GetInstalledCertificateIds", {"certificateType": [CSMS]},
                         {"status": one_of("Accepted", "NotFound")})
    if listed(reply, expired):
        raise Mismatch("the expired certificate is listed as installed",
                       "no entry for the rejected certificate")


@pytest.mark.octt("TC_M_09_CS")
@pytest.mark.cb_requires("SecurityCtrlr", "AdditionalRootCertificateCheck", equals="true")
async def test_additional_root_check_rejects(cs: Cs):
    """TC_M_09_CS: with AdditionalRootCertificateCheck true, a CSMS root not signed by the
    installed one is Rejected (M05.FR.10); the listing is Accepted (the old root stays,
    M05.FR.11) without the new one."""
    new = root(CSMS)
    await cs.ask("InstallCertificate", {"certificateType": CSMS, "certificate": new.pem},
                 {"status": "Rejected"})
    reply = await cs.ask("GetInstalledCertificateIds", {"certificateType": [CSMS]},
                         {"status": "Accepted"})
    if listed(reply, new):
        raise Mismatch("the rejected CSMS root is listed as installed",
                       "only the old CSMS root")


@pytest.mark.octt("TC_M_12_CS")
@NO_ADDITIONAL_CHECK
async def test_list_csms_root(cs: Cs, install: Installed):
    """TC_M_12_CS: Memory State CertificateInstalled CSMSRootCertificate; GetInstalled
    Certificates of that type lists it."""
    await _install_and_list(install, CSMS)


@pytest.mark.octt("TC_M_13_CS")
async def test_list_manufacturer_root(cs: Cs, install: Installed):
    """TC_M_13_CS: the same for ManufacturerRootCertificate."""
    await _install_and_list(install, MANUFACTURER)


@pytest.mark.octt("TC_M_14_CS")
@NO_ADDITIONAL_CHECK
async def test_list_v2g_root(cs: Cs, install: Installed):
    """TC_M_14_CS: the same for V2GRootCertificate."""
    await _install_and_list(install, V2G)


@pytest.mark.octt("TC_M_16_CS")
@NO_ADDITIONAL_CHECK
async def test_list_mo_root(cs: Cs, install: Installed):
    """TC_M_16_CS: the same for MORootCertificate."""
    await _install_and_list(install, MO)


@pytest.mark.octt("TC_M_17_CS")
@NO_ADDITIONAL_CHECK
async def test_list_two_types(cs: Cs, install: Installed):
    """TC_M_17_CS: a CSMS and a Manufacturer root installed; one GetInstalledCertificateIds
    for both types lists both, each with its type."""
    csms, manufacturer = await install(CSMS), await install(MANUFACTURER)
    await installed_certificates(cs, [CSMS, MANUFACTURER],
                                 ((CSMS, csms), (MANUFACTURER, manufacturer)))


@pytest.mark.octt("TC_M_18_CS")
@NO_ADDITIONAL_CHECK
async def test_list_all_types(cs: Cs, install: Installed):
    """TC_M_18_CS: certificateType omitted: every type, both installed roots among them."""
    csms, manufacturer = await install(CSMS), await install(MANUFACTURER)
    await installed_certificates(cs, None, ((CSMS, csms), (MANUFACTURER, manufacturer)))


@pytest.mark.octt("TC_M_19_CS")
async def test_list_none_found(cs: Cs):
    """TC_M_19_CS: no MORootCertificate (the OCTT deletes any first): NotFound, and
    certificateHashDataChain omitted (M03.FR.02)."""
    before = await cs.ask("GetInstalledCertificateIds", {"certificateType": [MO]})
    for entry in before.get("certificateHashDataChain") or ():
        await cs.ask("DeleteCertificate", {"certificateHashData": entry["certificateHashData"]},
                     {"status": "Accepted"})
    reply = await cs.ask("GetInstalledCertificateIds", {"certificateType": [MO]},
                         {"status": "NotFound"})
    if "certificateHashDataChain" in reply:
        raise Mismatch(f"certificateHashDataChain present: {reply['certificateHashDataChain']}",
                       "certificateHashDataChain omitted")


@pytest.mark.octt("TC_M_20_CS")
@NO_ADDITIONAL_CHECK
async def test_delete_certificate(cs: Cs, install: Installed):
    """TC_M_20_CS: GetInstalledCertificates CSMSRootCertificate (one is installed first when
    none is returned); DeleteCertificate of a returned hash data: Accepted (M04.FR.02); it is
    no longer listed. The OCTT's own root is the one deleted when the station lists it."""
    reply = await cs.ask("GetInstalledCertificateIds", {"certificateType": [CSMS]})
    if reply.get("status") != "Accepted":
        await install(CSMS)
        reply = await installed_certificates(cs, [CSMS], ((CSMS, root(CSMS)),))
    chain = [e for e in reply.get("certificateHashDataChain") or ()
             if e.get("certificateType") == CSMS]
    ours = [e for e in chain if listed({"certificateHashDataChain": [e]}, root(CSMS))]
    if not chain:
        raise Mismatch(f"no CSMSRootCertificate entry in {reply}", "an entry to delete")
    target = (ours or chain)[0]["certificateHashData"]
    await cs.ask("DeleteCertificate", {"certificateHashData": target}, {"status": "Accepted"})
    after = await cs.ask("GetInstalledCertificateIds", {"certificateType": [CSMS]},
                         {"status": one_of("Accepted", "NotFound")})
    still = [e for e in after.get("certificateHashDataChain") or ()
             if e.get("certificateHashData", {}).get("serialNumber", "").lower().lstrip("0")
             == target["serialNumber"].lower().lstrip("0")
             and e["certificateHashData"].get("issuerKeyHash", "").lower()
             == target["issuerKeyHash"].lower()]
    if still:
        raise Mismatch(f"the deleted certificate is still listed: {still}",
                       "the certificate gone (M04.FR.02)")


@pytest.mark.octt("TC_M_22_CS")
async def test_delete_unknown_certificate(cs: Cs):
    """TC_M_22_CS: DeleteCertificate of a certificate the station never had: NotFound
    (M04.FR.04)."""
    await cs.ask("GetInstalledCertificateIds", {"certificateType": [CSMS]})
    unknown = root("unknown").hash_data()
    await cs.ask("DeleteCertificate", {"certificateHashData": unknown}, {"status": "NotFound"})
