"""Before the first case: can the suite reach the CSMS under test at all?

A CSMS that is down, refuses the charge point's handshake or fails TLS would otherwise fail every
case with the same transport error, one by one. The run checks once, with the suite's own
credentials, and says in one line what is wrong and which option fixes it.
"""

from __future__ import annotations

import asyncio
import ssl

from websockets.exceptions import InvalidHandshake, InvalidStatus

from conformance.endpoints import dial
from conformance.settings import Settings

#: HTTP refusals of the opening handshake, and the option that usually fixes each
_REFUSALS = {
    401: "credentials refused (check --cb-password, --cb-security-profile; "
         "security whitepaper §2.3)",
    403: "refused (check --cb-cp-id and the credentials)",
    404: "the CSMS does not know this charge point (register it, or give a registered id with "
         "--cb-cp-id; OCPP-J 1.6 §3.2)",
}


async def problem_reaching(settings: Settings) -> str | None:
    """None when a charge point can open an OCPP 1.6 session with the CSMS under test as
    `--cb-cp-id`; else one line naming the URL and what went wrong."""
    url = settings.url_for()
    try:
        peer = await dial(settings, **_version(settings))
    except InvalidStatus as error:
        code = error.response.status_code
        return f"could not connect to {url}: HTTP {code}, " + _REFUSALS.get(
            code, "the CSMS refused the WebSocket upgrade")
    except ConnectionRefusedError:
        return f"could not connect to {url}: connection refused"
    except ssl.SSLError as error:
        return f"could not connect to {url}: TLS handshake failed ({_tls(error)})"
    except InvalidHandshake as error:
        cause = error.__cause__
        if isinstance(cause, ssl.SSLError):
            return f"could not connect to {url}: TLS handshake failed ({_tls(cause)})"
        return f"could not connect to {url}: invalid WebSocket handshake ({error})"
    except TimeoutError:
        return (f"could not connect to {url}: no answer within {settings.timeout:g} s "
                "(--cb-timeout)")
    except AssertionError as error:  # dial: no ocpp1.6 (ocpp2.0.1) agreed
        clause = "OCPP-J 2.0.1 §3.1.2" if settings.ocpp == "2.0.1" else "OCPP-J 1.6 §3.1.2"
        return f"could not connect to {url}: {error} ({clause})"
    except ValueError as error:  # the run's own settings: name the option
        hint = " (--cb-password)" if "AuthorizationKey" in str(error) else ""
        return f"could not connect to {url}: {error}{hint}"
    except OSError as error:
        return f"could not connect to {url}: {error.strerror or error}"
    await peer.close()
    return None


def _version(settings: Settings) -> dict:
    """dial's options for the run's OCPP version: 2.0.1 offers ocpp2.0.1."""
    if settings.ocpp != "2.0.1":
        return {}
    from chargebench.ocppj.versions import OCPP201
    from conformance.v201.station import station_handlers

    return {"version": OCPP201, "handlers": station_handlers()}


def _tls(error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        reason = f"certificate verify failed: {error.verify_message}"
    else:
        reason = error.reason or str(error)
    return f"{reason}; check --cb-ca and, at security profile 3, --cb-cert/--cb-key"


def check(settings: Settings) -> str | None:
    """`problem_reaching` from synchronous code (a pytest hook, before any event loop)."""
    return asyncio.run(problem_reaching(settings))
