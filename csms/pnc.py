"""Plug & Charge over OCPP 1.6 (OCA "Using ISO 15118 Plug & Charge with OCPP 1.6" whitepaper).

The charger wraps OCPP 2.0.1 messages in DataTransfer with vendorId
`org.openchargealliance.iso15118pnc`, messageId the 2.0.1 action, `data` the JSON payload.
The reference CSMS has no Mobility Operator or OCSP back end, so: Authorize checks the eMAID as an
id tag and the contract certificate's validity period; Get15118EVCertificate and
GetCertificateStatus answer Failed (the whitepaper's answer when the back end cannot help).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from cryptography import x509

from csms.authorize import id_tag_info

if TYPE_CHECKING:
    from csms.central import CentralSystem
    from csms.registry import ChargerConnection

VENDOR_ID = "org.openchargealliance.iso15118pnc"


def certificate_status(pem: str | None, now_ts: float) -> str:
    """OCPP 2.0.1 AuthorizeCertificateStatusEnumType for a PEM contract certificate chain."""
    if not pem:
        return "Accepted"  # hash data only: nothing we can verify without OCSP
    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError:
        return "CertChainError"
    if not cert.not_valid_before_utc.timestamp() <= now_ts <= cert.not_valid_after_utc.timestamp():
        return "CertificateExpired"
    return "Accepted"


async def authorize(csms: CentralSystem, conn: ChargerConnection, data: dict) -> dict:
    """2.0.1 AuthorizeRequest -> AuthorizeResponse (idTokenInfo, certificateStatus)."""
    token = (data.get("idToken") or {}).get("idToken", "")
    info = await id_tag_info(csms, token)
    reply: dict = {"idTokenInfo": {"status": info["status"] if token else "Invalid"}}
    if "certificate" in data or "iso15118CertificateHashData" in data:
        now = csms.clock.now().timestamp()
        reply["certificateStatus"] = certificate_status(data.get("certificate"), now)
    return reply


async def get_15118_ev_certificate(
    csms: CentralSystem, conn: ChargerConnection, data: dict
) -> dict:
    """2.0.1 Get15118EVCertificateResponse: no contract certificate pool here (M01, M02:
    Failed, with an empty exiResponse, the field being required, and the reason)."""
    return {"status": "Failed", "exiResponse": "",
            "statusInfo": {"reasonCode": "UnsupportedRequest",
                           "additionalInfo": "no contract certificate back end"}}  # fmt: skip


async def get_certificate_status(csms: CentralSystem, conn: ChargerConnection, data: dict) -> dict:
    """2.0.1 GetCertificateStatusResponse (M06): for a certificate of this CSMS's own CA, its
    OCSP response signed by that CA (M06.FR.03: Accepted with ocspResult; good when the CA
    issued it to this station, else unknown); for any other issuer there is no responder to
    ask here (no network): Failed without ocspResult (M06.FR.04)."""
    request = data["ocspRequestData"]
    issued = await asyncio.to_thread(csms.store.list_certificates, conn.cp_id,
                                     include_removed=True)  # fmt: skip
    result = csms.certificates.ocsp_result(request, issued, csms.clock.now())
    if result is None:
        return {"status": "Failed", "statusInfo": {
            "reasonCode": "UnsupportedRequest",
            "additionalInfo": "no OCSP responder for this issuer"}}  # fmt: skip
    return {"status": "Accepted", "ocspResult": result}


MESSAGES: dict[str, Callable[..., Awaitable[dict]]] = {
    "Authorize": authorize,
    "Get15118EVCertificate": get_15118_ev_certificate,
    "GetCertificateStatus": get_certificate_status,
}
