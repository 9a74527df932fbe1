"""ISO 15118 Plug&Charge over OCPP 1.6 DataTransfer, charge point side, as EVerest libocpp does.

OCA's "Using ISO 15118 Plug & Charge with OCPP 1.6" wraps OCPP 2.0.1 messages in DataTransfer:
vendorId `org.openchargealliance.iso15118pnc`, messageId the 2.0.1 action, data the JSON text of
the 2.0.1 request; the DataTransfer.conf carries the 2.0.1 response as JSON in `data` (seeds/004,
libocpp `ChargePointImpl::data_transfer_pnc_*`). Both are checked against the `ocpp` package's
v201 schemas.

- Charge point -> CSMS: Authorize (eMAID + iso15118CertificateHashData, the contract certificate
  only when CentralContractValidationAllowed, C07.FR.06), Get15118EVCertificate,
  GetCertificateStatus, SignCertificate (V2GCertificate, retried per CertSigningWaitMinimum /
  CertSigningRepeatTimes, 2.0.1 A02.FR.17-19).
- CSMS -> charge point: CertificateSigned, InstallCertificate, DeleteCertificate,
  GetInstalledCertificateIds, TriggerMessage(SignV2GCertificate), all answered by the shared
  `CertificateStore`.

Wiring: `pnc = PlugAndCharge(config, certs, clock=clock, notify=session.call,
other=handlers["DataTransfer"])`, then `handlers.update(pnc.handlers)`: DataTransfer with
another vendorId still goes to the core handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import jsonschema_rs

from chargebench.clock import Clock
from sim.features.certificates import (
    CSMS_ROOT,
    MANUFACTURER_ROOT,
    MO_ROOT,
    V2G_CERTIFICATE,
    V2G_ROOT,
    CertificateStore,
    load_chain,
    verify_chain,
)
from sim.tasks import background, owner_of

__all__ = ["PNC_VENDOR_ID", "PlugAndCharge", "cert_signing_delays", "check_v201", "wrap"]

log = logging.getLogger(__name__)

PNC_VENDOR_ID = "org.openchargealliance.iso15118pnc"
Notify = Callable[[str, dict], Awaitable[Any]]
Handler = Callable[[dict], dict]

#: 2.0.1 certificate type names -> the store's (CSMSRootCertificate is 1.6's
#: CentralSystemRootCertificate)
_ROOT_TYPES = {"V2GRootCertificate": V2G_ROOT, "MORootCertificate": MO_ROOT,
               "CSMSRootCertificate": CSMS_ROOT, "ManufacturerRootCertificate": MANUFACTURER_ROOT}
_V2G_CHAIN = "V2GCertificateChain"


@functools.cache
def _validator(name: str) -> Any:
    text = resources.files("ocpp.v201.schemas").joinpath(f"{name}.json").read_text("utf-8-sig")
    return jsonschema_rs.validator_for(json.loads(text))


def check_v201(action: str, payload: Any, response: bool) -> None:
    """Raise ValueError when `payload` is not a valid OCPP 2.0.1 `action` request/response."""
    validator = _validator(action + ("Response" if response else "Request"))
    error = next(iter(validator.iter_errors(payload)), None)
    if error is not None:
        path = ".".join(str(p) for p in error.instance_path) or "(payload)"
        raise ValueError(f"{action}: {path}: {error.message}")


def wrap(message_id: str, payload: dict) -> dict:
    """The DataTransfer.req carrying a 2.0.1 request (schema-checked first)."""
    check_v201(message_id, payload, False)
    return {"vendorId": PNC_VENDOR_ID, "messageId": message_id,
            "data": json.dumps(payload, separators=(",", ":"))}


def cert_signing_delays(config: Any) -> list[float]:
    """Seconds to wait for CertificateSigned after each SignCertificate: CertSigningWaitMinimum,
    doubled for each of CertSigningRepeatTimes repeats (2.0.1 A02.FR.17-19, libocpp keys).
    Empty when CertSigningWaitMinimum is not configured: one request, no retry."""
    wait = config.get("PnC", "CertSigningWaitMinimum", None)
    if not wait:
        return []
    repeats = config.get("PnC", "CertSigningRepeatTimes", None) or 0
    return [float(wait) * 2**i for i in range(repeats + 1)]


def _unknown_vendor(payload: dict) -> dict:
    return {"status": "UnknownVendorId"}


class PlugAndCharge:
    """The PnC DataTransfer messages of one charge point."""

    def __init__(
        self,
        config: Any,
        certificates: CertificateStore,
        *,
        clock: Clock,
        notify: Notify,
        other: Handler | None = None,
    ) -> None:
        """`notify` is the session's `call`; `other` answers DataTransfer of other vendors."""
        self.config = config
        self.certificates = certificates
        self.clock = clock
        self.notify = notify
        self.other = other or _unknown_vendor
        self._v2g_installed = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def handlers(self) -> dict[str, Handler]:
        return {"DataTransfer": self.on_data_transfer}

    @property
    def wrapped_handlers(self) -> dict[str, Handler]:
        """messageId -> handler of the 2.0.1 request, returning the 2.0.1 response."""
        return {
            "CertificateSigned": self._certificate_signed,
            "InstallCertificate": self._install_certificate,
            "DeleteCertificate": self._delete_certificate,
            "GetInstalledCertificateIds": self._get_installed_certificate_ids,
            "TriggerMessage": self._trigger_message,
        }

    # Configuration -----------------------------------------------------------------------

    @property
    def supported(self) -> bool:
        """The PnC feature profile is in SupportedFeatureProfiles (libocpp registers the
        certificate handlers only then)."""
        return "PnC" in (self.config.get_list("Core", "SupportedFeatureProfiles", "") or [])

    @property
    def enabled(self) -> bool:
        """Supported and ISO15118PnCEnabled: Authorize and EV certificates may be used."""
        return self.supported and bool(self.config.get("PnC", "ISO15118PnCEnabled", False))

    # CSMS -> charge point ----------------------------------------------------------------

    def on_data_transfer(self, payload: dict) -> dict:
        """DataTransfer.req handler: PnC messages here, every other vendor to `other`."""
        if payload.get("vendorId") != PNC_VENDOR_ID:
            return self.other(payload)
        if not self.supported:
            return {"status": "UnknownVendorId"}
        handler = self.wrapped_handlers.get(payload.get("messageId", ""))
        if handler is None:
            return {"status": "UnknownMessageId"}
        action = payload["messageId"]
        try:
            request = json.loads(payload.get("data") or "null")
            check_v201(action, request, False)
        except ValueError as exc:  # JSONDecodeError included; libocpp answers Rejected
            log.info("PnC %s refused: %s", action, exc)
            return {"status": "Rejected"}
        response = handler(request)
        check_v201(action, response, True)
        return {"status": "Accepted", "data": json.dumps(response, separators=(",", ":"))}

    def _certificate_signed(self, request: dict) -> dict:
        kind = request.get("certificateType", V2G_CERTIFICATE)
        if kind != V2G_CERTIFICATE:  # libocpp: the 1.6 CertificateSigned is for the CP cert
            self.certificates.report("InvalidChargePointCertificate",
                                     f"certificateType {kind} over PnC DataTransfer")
            return {"status": "Rejected"}
        ok = self.certificates.install_leaf(V2G_CERTIFICATE, request["certificateChain"])
        if ok:
            self._v2g_installed.set()
        return {"status": "Accepted" if ok else "Rejected"}

    def _install_certificate(self, request: dict) -> dict:
        kind = _ROOT_TYPES[request["certificateType"]]
        return {"status": self.certificates.install_root(kind, request["certificate"])}

    def _delete_certificate(self, request: dict) -> dict:
        return {"status": self.certificates.delete(request["certificateHashData"])}

    def _get_installed_certificate_ids(self, request: dict) -> dict:
        """All types when certificateType is absent (2.0.1 M03.FR.02)."""
        wanted = request.get("certificateType") or [*_ROOT_TYPES, _V2G_CHAIN]
        chains: list[dict[str, Any]] = []
        names = {v: k for k, v in _ROOT_TYPES.items()}
        roots = [_ROOT_TYPES[t] for t in wanted if t in _ROOT_TYPES]
        for kind, data in self.certificates.installed(roots):
            chains.append({"certificateType": names[kind], "certificateHashData": data})
        if _V2G_CHAIN in wanted:
            hashes = self.certificates.leaf_hashes(V2G_CERTIFICATE)
            if hashes:
                leaf, *children = hashes
                entry: dict[str, Any] = {"certificateType": _V2G_CHAIN,
                                         "certificateHashData": leaf}
                if children:
                    entry["childCertificateHashData"] = children
                chains.append(entry)
        if not chains:
            return {"status": "NotFound"}
        return {"status": "Accepted", "certificateHashDataChain": chains}

    def _trigger_message(self, request: dict) -> dict:
        """TriggerMessage(SignV2GCertificate): Accepted, then a wrapped SignCertificate (libocpp
        needs CpoName for the CSR's O)."""
        if request["requestedMessage"] != "SignV2GCertificate":
            return {"status": "NotImplemented"}
        if self.certificates.cpo_name is None:
            return {"status": "Rejected"}
        self._task = background(self.request_v2g_certificate(), owner_of(self.config))
        return {"status": "Accepted"}

    # Charge point -> CSMS ----------------------------------------------------------------

    async def call(self, message_id: str, request: dict) -> dict | None:
        """Send a wrapped 2.0.1 request; its 2.0.1 response, or None when there was no usable
        answer (offline, CALLERROR, status not Accepted, data missing or invalid)."""
        try:
            reply = await self.notify("DataTransfer", wrap(message_id, request))
        except Exception as exc:  # ConnectionLost, CallFailed...: no answer
            log.info("PnC %s not answered: %s", message_id, exc)
            return None
        if (reply or {}).get("status") != "Accepted" or not reply.get("data"):
            return None
        try:
            response = json.loads(reply["data"])
            check_v201(message_id, response, True)
        except ValueError as exc:
            log.warning("PnC %s.conf unusable: %s", message_id, exc)
            return None
        return response

    def authorize_request(
        self, emaid: str, certificate: str | None = None,
        hash_data: list[dict[str, str]] | None = None,
    ) -> dict:
        """The 2.0.1 AuthorizeRequest for a contract (eMAID); the certificate goes along only
        when the CSMS may validate it (C07.FR.06, CentralContractValidationAllowed)."""
        request: dict[str, Any] = {"idToken": {"idToken": emaid, "type": "eMAID"}}
        if hash_data:
            request["iso15118CertificateHashData"] = hash_data
        if certificate and self.config.get("PnC", "CentralContractValidationAllowed", False):
            request["certificate"] = certificate
        return request

    async def authorize(
        self, emaid: str, certificate: str | None = None,
        hash_data: list[dict[str, str]] | None = None,
    ) -> dict:
        """Authorize a contract; returns the 2.0.1 AuthorizeResponse (Invalid when PnC is off).

        Offline: with ContractValidationOffline the contract chain is checked against the
        installed MO/V2G roots (C07.FR.08), otherwise no charging (C07.FR.07).
        """
        invalid = {"idTokenInfo": {"status": "Invalid"}}
        if not self.enabled:
            return invalid
        response = await self.call("Authorize", self.authorize_request(emaid, certificate,
                                                                       hash_data))
        if response is not None:
            return response
        if certificate and self.config.get("PnC", "ContractValidationOffline", False):
            return {"idTokenInfo": {"status": "Accepted" if self.validate_contract(certificate)
                                    else "Invalid"}}
        return invalid

    def validate_contract(self, certificate_chain: str) -> bool:
        """Local contract check: the chain ends in an installed MO or V2G root, all valid now."""
        with contextlib.suppress(ValueError):
            roots = self.certificates.roots(MO_ROOT) + self.certificates.roots(V2G_ROOT)
            return verify_chain(load_chain(certificate_chain), roots, self.clock.now()) is None
        return False

    async def get_15118_ev_certificate(
        self, schema_version: str, action: str, exi_request: str
    ) -> dict | None:
        """Forward the EV's CertificateInstallationReq/UpdateReq (EXI, base64); returns the
        2.0.1 Get15118EVCertificateResponse for the EV, or None."""
        if not self.enabled:
            return None
        return await self.call("Get15118EVCertificate", {
            "iso15118SchemaVersion": schema_version, "action": action, "exiRequest": exi_request,
        })

    async def get_certificate_status(self, ocsp_request_data: dict) -> dict | None:
        """Ask the CSMS for an OCSP response of a (contract/sub-CA) certificate."""
        return await self.call("GetCertificateStatus", {"ocspRequestData": ocsp_request_data})

    def sign_certificate_request(self) -> dict:
        """The 2.0.1 SignCertificateRequest for a new SECC leaf (V2GCertificate)."""
        csr = self.certificates.sign_certificate_request(V2G_CERTIFICATE)["csr"]
        return {"csr": csr, "certificateType": V2G_CERTIFICATE}

    async def request_v2g_certificate(self) -> bool:
        """SignCertificate until a V2GCertificate is installed or the repeats are used up
        (`cert_signing_delays`). True once installed."""
        self._v2g_installed.clear()
        delays = cert_signing_delays(self.config)
        waits: list[float | None] = [*delays] if delays else [None]
        for delay in waits:
            response = await self.call("SignCertificate", self.sign_certificate_request())
            if delay is None:
                return response is not None and response.get("status") == "Accepted"
            if await self._wait_installed(delay):
                return True
        return False

    async def _wait_installed(self, seconds: float) -> bool:
        waiter = asyncio.ensure_future(self._v2g_installed.wait())
        timer = asyncio.ensure_future(self.clock.sleep(seconds))
        await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiter, timer):
            task.cancel()
        return self._v2g_installed.is_set()

    async def wait(self) -> None:
        """Wait for a triggered certificate request (tests, orderly shutdown)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
