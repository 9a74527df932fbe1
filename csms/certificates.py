"""The CSMS as the CPO's certificate authority: SignCertificate.req -> CertificateSigned.req.

Security whitepaper A02 (update charge point certificate by request of the CSMS) and A03: the
charger sends a CSR, the CSMS checks the subject, answers, signs it with the CA given by
`tls_ca`/`ca_key`, and sends the certificate in a CertificateSigned.req of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from chargebench.ocppj import CallFailed
from chargebench.security import csr_identity, sign_csr

if TYPE_CHECKING:
    from csms.central import CentralSystem
    from csms.registry import ChargerConnection

log = logging.getLogger(__name__)


class CertificateService:
    """Checks and signs charge point CSRs; without a CA key every CSR is rejected."""

    def __init__(self, csms: CentralSystem) -> None:
        self.csms = csms
        config = csms.config
        self._ca: tuple[bytes, bytes] | None = None
        if config.tls_ca is not None and config.ca_key is not None:
            self._ca = (Path(config.tls_ca).read_bytes(), Path(config.ca_key).read_bytes())

    @property
    def can_sign(self) -> bool:
        return self._ca is not None

    async def check_csr(
        self, cp_id: str, csr_pem: str, serials: Collection[str] = ()
    ) -> str | None:
        """Why the CSR must be rejected, or None. A02.FR.13: O is the CPO name; A00.FR.511: CN
        is the charger's serial number (its id when no serial is known). A 1.6 BootNotification
        carries two serials (chargePointSerialNumber, chargeBoxSerialNumber; libocpp signs with
        the latter), so `serials` from the boot are accepted as well as the stored one."""
        if self._ca is None:
            return "the CSMS has no CA key to sign with"
        try:
            identity = csr_identity(csr_pem)
        except ValueError as exc:
            return f"unreadable CSR: {exc}"
        charger = await asyncio.to_thread(self.csms.store.get_charger, cp_id)
        candidates = {(charger and charger["serial"]) or cp_id, *serials}
        if not any(identity.matches(serial, self.csms.config.cpo_name) for serial in candidates):
            return f"subject CN={identity.common_name!r} O={identity.organization!r}"
        return None

    async def sign_and_send(self, conn: ChargerConnection, csr_pem: str, **fields: str) -> None:
        """Sign, send CertificateSigned.req (with `fields` besides the chain: 2.0.1's
        certificateType, A02.FR.14), and remember the certificate once Accepted."""
        from csms import commands  # commands imports the server side; import late

        assert self._ca is not None
        await asyncio.sleep(0)  # let the SignCertificate.conf go out first
        try:
            pem = await asyncio.to_thread(sign_csr, csr_pem, *self._ca)
        except ValueError as exc:
            log.warning("%s: cannot sign CSR: %s", conn.cp_id, exc)
            return
        try:
            await commands.certificate_signed(self.csms, conn.cp_id, certificateChain=pem,
                                              **fields)  # fmt: skip
        except (CallFailed, commands.NotConnected) as exc:
            log.warning("%s: CertificateSigned failed: %s", conn.cp_id, exc)


def certificate_fields(pem: str) -> dict:
    """Serial number (hex) of the first certificate of a chain, for the store's records."""
    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError:
        return {}
    return {"serial_number": format(cert.serial_number, "x")}
