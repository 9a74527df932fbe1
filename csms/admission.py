"""Who may open an OCPP connection, decided before the WebSocket upgrade (sans-I/O).

The server gathers the facts of one upgrade request (charger record, credentials checked, TLS,
client certificate) and `admit()` answers with an HTTP refusal or the security profile the
connection achieves. Bad credentials therefore never reach OCPP (security whitepaper §2.3:
authentication is part of the HTTP upgrade).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import unquote

from csms.config import UnknownChargerPolicy
from csms.store.base import Charger

# OCPP-J 1.6 §3.1.1: the charge point id is the last path segment. We accept the unreserved URI
# characters (the OCPP 2.0.1 identity rule, a useful bound) and refuse ':' (RFC 7617: not in a
# Basic user-id) and '.'/'..' (it names a log file). 48: OCPP 2.0.1 identity length.
_CP_ID = re.compile(r"[A-Za-z0-9._~*-]{1,48}")


def charge_point_id(path: str) -> str | None:
    """The charge point id in `/ocpp/{id}` or `/{id}` (query ignored); None if malformed."""
    path = path.split("?", 1)[0]
    parts = path.split("/")
    if len(parts) == 3 and parts[1] == "ocpp":
        raw = parts[2]
    elif len(parts) == 2:
        raw = parts[1]
    else:
        return None
    cp_id = unquote(raw)
    if not _CP_ID.fullmatch(cp_id) or cp_id in (".", ".."):
        return None
    return cp_id


@dataclass(frozen=True, slots=True)
class Facts:
    """What the server learnt from one upgrade request."""

    #: an Authorization header was sent
    basic_sent: bool = False
    #: its user is the charge point id and its password the charger's key
    basic_ok: bool = False
    #: the connection is TLS
    tls: bool = False
    #: a verified client certificate was presented (None: none presented)
    cert_ok: bool | None = None
    #: the id is unknown but differs from a known charger's only in letter case
    case_twin: bool = False


@dataclass(frozen=True, slots=True)
class Admission:
    """The verdict: `status` None admits at `profile`; otherwise refuse with that HTTP status."""

    status: HTTPStatus | None
    reason: str = ""
    profile: int = 0
    #: the charger is not in the store yet (the server registers it per policy)
    new: bool = False

    @property
    def admitted(self) -> bool:
        return self.status is None


def achieved_profile(facts: Facts) -> int:
    """The highest security profile the connection satisfies (security whitepaper §2)."""
    if facts.tls and facts.cert_ok:
        return 3  # mutual TLS (A00.FR.4xx)
    if facts.tls and facts.basic_ok:
        return 2  # TLS with Basic authentication (A00.FR.3xx)
    if facts.basic_ok:
        return 1  # Basic authentication (A00.FR.2xx)
    return 0


def required_profile(charger: Charger) -> int:
    """A charger upgraded to profile N is never again admitted below N (DESIGN.md; A00.FR.005)."""
    return max(charger["security_profile"], charger["max_profile_seen"])


def admit(charger: Charger | None, policy: UnknownChargerPolicy, facts: Facts) -> Admission:
    """Decide one upgrade request; see the module docstring."""
    if charger is None:
        if policy is UnknownChargerPolicy.REFUSE:
            return Admission(HTTPStatus.NOT_FOUND, "unknown charge point")
        if facts.case_twin:
            # `cp-p1` beside a password-protected `CP-P1`: a look-alike, not a new charger
            # (OCPP 2.0.1 part 2 §2.1: identifiers are case-insensitive); never admitted
            # without the credentials of the charger it imitates (issue 15 point 0b)
            return Admission(HTTPStatus.NOT_FOUND, "charge point id differs from a known one "
                             "only in letter case")
        # An unknown charger has no stored key or serial: only the transport counts.
        return Admission(None, profile=0, new=True)
    if facts.basic_sent and not facts.basic_ok:
        return Admission(HTTPStatus.UNAUTHORIZED, "bad credentials")
    required = required_profile(charger)
    achieved = achieved_profile(facts)
    if achieved >= required:
        return Admission(None, profile=achieved)
    if required == 3 and facts.cert_ok is False:
        return Admission(HTTPStatus.FORBIDDEN, "client certificate does not identify the charger")
    if required in (1, 2) and not facts.basic_sent:
        return Admission(HTTPStatus.UNAUTHORIZED, "credentials required")
    return Admission(
        HTTPStatus.FORBIDDEN, f"security profile {required} required, connection gives {achieved}"
    )
