"""A. Security on a 2.0.1 station: the connection's security profile from its network
profiles (A00, B09, B10, A05), certificate signing (A02, A03) and the certificate messages
(M03-M05).

Network connection profiles: libocpp keeps them as JSON in InternalCtrlr.NetworkConnectionProfiles
(`[{"configurationSlot": 1, "connectionData": {...}}]`); OCPPCommCtrlr.NetworkConfigurationPriority
lists the slots in the order they are tried. After a power cycle the station dials the first
(B10.FR.04, A05.FR.05), NetworkProfileConnectionAttempts times each (B10.FR.03), then the next;
when every one failed it goes back to the one it last connected with (B10.FR.07), which is how
a raised security profile that does not work falls back. Connected through a profile, that
profile's securityProfile becomes SecurityCtrlr.SecurityProfile and the profiles below it go
(A05.FR.06). A station without network profiles has one, implicit: the URL it was given and
SecurityCtrlr.SecurityProfile.

The URL a station was given (`ChargingStation(csms_url=...)`, the command line) replaces the
ocppCsmsUrl of the profiles as its component_config folder has them, so a libocpp folder's
`ws://localhost:9000` points at the CSMS under test; a profile the CSMS set has its own URL.

Profiles (A00): 0 ws://; 1 ws:// and HTTP Basic with SecurityCtrlr.BasicAuthPassword
(A00.FR.2xx); 2 wss:// (the CSMS certificate chains to an installed CSMSRootCertificate, or to
the CA file the station was given) and Basic; 3 wss:// with the ChargingStationCertificate as
client certificate (A00.FR.4xx). The certificate store, security log and CSR generation are the
version-neutral ones (`sim.features.certificates`, `.security_events`, through
`sim.v201.features`); the 2.0.1 names of certificate types are mapped here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chargebench.ocppj import CallFailed
from chargebench.security import client_ssl_context, parse_basic_auth_password
from sim.features import certificates as store

if TYPE_CHECKING:
    from sim.v201.device_model import DeviceModel
    from sim.v201.station import ChargingStation

__all__ = ["NetworkState", "certificate_signed", "connect_failed", "connect_options",
           "connected", "delete_certificate", "get_installed_certificate_ids",
           "install_certificate", "request_certificate", "set_network_profile", "watch"]

log = logging.getLogger(__name__)

#: B09.FR.05/06: the slots a profile may go to when the device model lists none
DEFAULT_SLOTS = range(0, 10)

#: 2.0.1 GetCertificateIdUseEnumType / InstallCertificateUseEnumType -> the store's types
ROOT_NAMES = {"CSMSRootCertificate": store.CSMS_ROOT,
              "ManufacturerRootCertificate": store.MANUFACTURER_ROOT,
              "V2GRootCertificate": store.V2G_ROOT, "MORootCertificate": store.MO_ROOT}
#: CertificateSigningUseEnumType -> the store's leaf types
LEAF_NAMES = {"ChargingStationCertificate": store.CHARGE_POINT_CERTIFICATE,
              "V2GCertificate": store.V2G_CERTIFICATE}


@dataclass(slots=True)
class NetworkState:
    """Where the connection loop is in the priority list (`B10`)."""

    #: the slots to try after this power cycle, in order (None: the implicit profile)
    order: tuple[int | None, ...] = (None,)
    #: index into `order` of the profile being tried
    index: int = 0
    #: failed attempts with it (B10.FR.03)
    failures: int = 0
    #: the slot of the last successful connection (B10.FR.07), its security profile
    last_good: int | None = None
    profile: int = 0


# Network connection profiles ---------------------------------------------------------------


def profiles(st: ChargingStation, text: str | None = None) -> dict[int, dict]:
    """configurationSlot -> NetworkConnectionProfile (connectionData), from the device model
    (or from `text`, the variable's JSON)."""
    text = st.settings.text("NetworkConnectionProfiles") if text is None else text
    if not text:
        return {}
    try:
        items = json.loads(text)
        return {int(i["configurationSlot"]): dict(i["connectionData"]) for i in items}
    except (ValueError, KeyError, TypeError) as error:
        log.warning("%s: InternalCtrlr.NetworkConnectionProfiles: %s", st.id, error)
        return {}


def _priority(st: ChargingStation) -> list[int]:
    slots = []
    for item in st.settings.list("NetworkConfigurationPriority"):
        with contextlib.suppress(ValueError):
            slots.append(int(item))
    return slots


def power_cycle(st: ChargingStation, net: NetworkState) -> None:
    """B10.FR.04, A05.FR.05: after a (re)boot, begin with the first entry of the priority."""
    known = profiles(st)
    order = tuple(s for s in _priority(st) if s in known)
    net.order, net.index, net.failures = order or (None,), 0, 0


def current(st: ChargingStation, net: NetworkState) -> tuple[int | None, dict]:
    """(slot, connectionData) of the profile to dial now."""
    slot = net.order[net.index % len(net.order)]
    data = profiles(st).get(slot) if slot is not None else None
    if data is None:
        return None, {"ocppCsmsUrl": st.csms_url,
                      "securityProfile": st.settings.int("SecurityProfile")}
    if slot is not None and data.get("ocppCsmsUrl") == _folder_urls(st).get(slot):
        data = {**data, "ocppCsmsUrl": st.csms_url}
    return slot, data


def _folder_urls(st: ChargingStation) -> dict[int, str]:
    """The ocppCsmsUrl of each profile of the component_config folder itself (what the
    station's `csms_url` replaces; a profile the CSMS set keeps its own)."""
    dm = st.settings.dm
    find = getattr(dm, "find", None)
    spec = find("InternalCtrlr", "NetworkConnectionProfiles") if find is not None else None
    attr = spec.attribute("Actual") if spec is not None else None
    if attr is None or not attr.value or not st.csms_url:
        return {}
    return {slot: str(data.get("ocppCsmsUrl"))
            for slot, data in profiles(st, str(attr.value)).items()}


def connect_options(st: ChargingStation, data: dict) -> tuple[str, dict[str, Any]]:
    """(URL, `chargebench.ocppj.connect` options) of one network profile; ValueError when its
    credentials are missing (counted as a failed attempt)."""
    profile = int(data.get("securityProfile", 0))
    base = str(data["ocppCsmsUrl"]).rstrip("/")
    options: dict[str, Any] = {}
    if profile in (1, 2):
        password = st.settings.text("BasicAuthPassword")
        if not password:
            raise ValueError(f"SecurityProfile {profile} needs SecurityCtrlr.BasicAuthPassword")
        options["additional_headers"] = {"Authorization": _basic_auth(st.id, password)}
    if profile >= 2 or base.lower().startswith("wss://"):
        base = "wss://" + base.split("://", 1)[-1]
        options["ssl"] = _ssl_context(st, profile)
    return f"{base}/{st.id}", options


def _basic_auth(station_id: str, password: str) -> str:
    """The Authorization header of profiles 1 and 2: the station id and the password as its
    UTF-8 text (A00.FR.204/205: a passwordString, not 1.6's hex AuthorizationKey). ValueError
    for a password outside the passwordString rule (its text is never in the message)."""
    if not station_id or ":" in station_id:
        raise ValueError("a station id with ':' cannot be sent with HTTP Basic (RFC 7617 §2)")
    credentials = station_id.encode("utf-8") + b":" + parse_basic_auth_password(password)
    return "Basic " + base64.b64encode(credentials).decode("ascii")


def _ssl_context(st: ChargingStation, profile: int) -> ssl.SSLContext:
    """The CA: the file the station was given, else its CSMSRootCertificates (A00.FR.310);
    profile 3 adds its ChargingStationCertificate (A00.FR.402): the one installed over OCPP
    (A02), else the one the station was given."""
    given = st.tls
    certs = st.features.certs
    stored = certs.tls_files() if st.state_dir is not None else None
    ca = given.ca if given is not None else stored.ca if stored is not None else None
    if ca is None or (given is None and not certs.roots(store.CSMS_ROOT)):
        raise ValueError(f"SecurityProfile {profile} needs a CSMSRootCertificate")
    cert = key = None
    if profile == 3:
        if stored is not None and stored.cert is not None:
            cert, key = stored.cert, stored.key
        elif given is not None:
            cert, key = given.cert, given.key
        if cert is None:
            raise ValueError("SecurityProfile 3 needs a ChargingStationCertificate")
    return client_ssl_context(ca, cert, key)


def connect_failed(st: ChargingStation, net: NetworkState, error: BaseException) -> None:
    """B10.FR.03: NetworkProfileConnectionAttempts per entry, then the next one; after the last,
    the profile last connected with (B10.FR.07). A CSMS certificate that does not verify is a
    security event (A00.FR.315: InvalidCsmsCertificate)."""
    if isinstance(error, ssl.SSLCertVerificationError):
        st.features.security_event("InvalidCentralSystemCertificate", str(error)[:255])
    net.failures += 1
    if net.failures < max(1, st.settings.int("NetworkProfileConnectionAttempts")):
        return
    net.failures = 0
    net.index += 1
    if net.index >= len(net.order):
        back = net.last_good if net.last_good in net.order else None
        net.index = net.order.index(back) if back is not None else 0
        if back is not None:
            log.info("%s: every network profile failed; back to slot %s (B10.FR.07)",
                     st.id, back)


def connected(st: ChargingStation, net: NetworkState, slot: int | None, profile: int,
              ws: Any) -> None:
    """A05.FR.06: a profile connected with (`slot`, its securityProfile `profile`) above
    SecurityCtrlr.SecurityProfile raises it, and profiles with a lower one are removed from the
    slots and the priority (a fallback to a lower one, B10.FR.07, changes nothing). The CSMS
    certificate tells the store which root is in use (M04.FR.06)."""
    net.failures, net.last_good, net.profile = 0, slot, profile
    ssl_object = ws.transport.get_extra_info("ssl_object") if ws.transport else None
    if ssl_object is not None:
        st.features.certs.on_connected(ssl_object.getpeercert(binary_form=True))
    if slot is None:
        return
    if profile <= st.settings.int("SecurityProfile"):
        return
    _set(st, "SecurityProfile", profile)
    st.features.security_event("ReconfigurationOfSecurityParameters",
                               f"SecurityProfile {profile}")
    known = profiles(st)
    lower = [s for s, d in known.items() if int(d.get("securityProfile", 0)) < profile]
    if lower:
        kept = [{"configurationSlot": s, "connectionData": d} for s, d in known.items()
                if s not in lower]
        _set(st, "NetworkConnectionProfiles", json.dumps(kept, separators=(",", ":")))
        _set(st, "NetworkConfigurationPriority",
             ",".join(str(s) for s in _priority(st) if s not in lower))
        net.order = tuple(s for s in net.order if s not in lower) or (slot,)
        net.index = net.order.index(slot)


def _set(st: ChargingStation, name: str, value: Any) -> None:
    with contextlib.suppress(KeyError, ValueError):
        st.settings.set(name, value, persist=True)


def security_profile(st: ChargingStation) -> int:
    return st.network.profile


# B09 SetNetworkProfile, B10 NetworkConfigurationPriority --------------------------------------


def _slots(dm: DeviceModel | None) -> list[int]:
    spec = dm.find("OCPPCommCtrlr", "NetworkConfigurationPriority") if dm is not None else None
    values = getattr(getattr(spec, "characteristics", None), "values_list", None)
    if values:
        with contextlib.suppress(ValueError):
            return [int(v) for v in values]
    return list(DEFAULT_SLOTS)


def set_network_profile(st: ChargingStation, p: dict) -> dict:
    """B09: Rejected for a slot outside NetworkConfigurationPriority's valuesList (B09.FR.05),
    a securityProfile lower than SecurityCtrlr.SecurityProfile (B09.FR.04) or content it cannot
    use (B09.FR.02: not OCPP20/JSON, a URL that is no ws:// or wss://); Failed when it cannot
    be stored (B09.FR.03); else stored and Accepted (B09.FR.01). It is used once
    NetworkConfigurationPriority names it and the station reboots (B10.FR.04)."""
    slot, data = p["configurationSlot"], p["connectionData"]
    dm = getattr(st.settings, "dm", None)
    url = str(data.get("ocppCsmsUrl", ""))
    if (slot not in _slots(dm) or data["securityProfile"] < st.settings.int("SecurityProfile")
            or data.get("ocppVersion") != "OCPP20" or data.get("ocppTransport") != "JSON"
            or not url.lower().startswith(("ws://", "wss://"))):
        return {"status": "Rejected"}
    known = profiles(st)
    known[slot] = data
    items = [{"configurationSlot": s, "connectionData": d} for s, d in sorted(known.items())]
    try:
        st.settings.set("NetworkConnectionProfiles", json.dumps(items, separators=(",", ":")),
                        persist=True)
    except (KeyError, ValueError) as error:
        log.warning("%s: SetNetworkProfile not stored: %s", st.id, error)
        return {"status": "Failed"}
    st.features.security_event("ReconfigurationOfSecurityParameters",
                               f"network profile slot {slot}")
    return {"status": "Accepted"}


def priority_check(st: ChargingStation, value: str) -> tuple[str, str] | None:
    """SetVariables NetworkConfigurationPriority: every slot named holds a profile (B10.FR.02);
    a raised profile 2/3 needs a valid CSMSRootCertificate (A05.FR.02), 3 also a
    ChargingStationCertificate (A05.FR.03), unless the station was given its TLS files."""
    known = profiles(st)
    current_profile = st.settings.int("SecurityProfile")
    for item in value.split(","):
        try:
            slot = int(item)
        except ValueError:
            return "InvalidValue", f"{item!r} is no slot"
        if slot not in known:
            return "InvalidNetworkConf", f"slot {slot} holds no network profile (B10.FR.02)"
        wanted = int(known[slot].get("securityProfile", 0))
        if wanted > current_profile and st.tls is None:
            problem = st.features.certs.check_security_profile(wanted)
            if problem is not None:
                return "NoCertificateAvailable", problem.replace("CentralSystem", "CSMS")
    return None


def variables_set(st: ChargingStation, results: list[dict]) -> None:
    """A01.FR.11/12: an accepted BasicAuthPassword is logged in the security log, without its
    value (the next connection uses it)."""
    for result in results:
        if (result["attributeStatus"] == "Accepted"
                and result["component"].get("name") == "SecurityCtrlr"
                and result["variable"].get("name") == "BasicAuthPassword"):
            st.features.security_event("ReconfigurationOfSecurityParameters",
                                       "SecurityCtrlr.BasicAuthPassword changed")


def watch(st: ChargingStation, dm: DeviceModel) -> None:
    """Register the SetVariables rules of this block on the device model, once: called before
    the first SetVariables, so a station that never sees one holds no rule (fleet memory)."""
    if dm.has_check("OCPPCommCtrlr", "NetworkConfigurationPriority"):
        return
    with contextlib.suppress(KeyError):
        dm.add_check("OCPPCommCtrlr", "NetworkConfigurationPriority",
                     lambda value: priority_check(st, value))


# A02/A03 certificate signing -----------------------------------------------------------------


def sign_certificate_payload(st: ChargingStation, kind: str) -> dict:
    """SignCertificateRequest with a new key pair's CSR (A02.FR.02/03; CN the serial number,
    O SecurityCtrlr.OrganizationName, A02.FR.13)."""
    request = st.features.certs.sign_certificate_request(LEAF_NAMES[kind])
    return {**request, "certificateType": kind}


async def request_certificate(st: ChargingStation,
                              kind: str = "ChargingStationCertificate") -> bool:
    """A02/A03: SignCertificate; True when the CSMS Accepted it (the certificate follows in a
    CertificateSigned). Accepted, the request is sent again, with a new CSR, if no
    CertificateSigned came after CertSigningWaitMinimum s, the wait doubled each time
    (A02.FR.17/18), at most CertSigningRepeatTimes times (A02.FR.19). Without an
    OrganizationName there is nothing to ask for: False."""
    await asyncio.sleep(0)  # a trigger's response goes out first (F06.FR.04)
    signing = st.features.signing
    previous = signing.pop(kind, None)
    if previous is not None and previous is not asyncio.current_task():
        previous.cancel()  # a new request (a TriggerMessage) starts the back-off again
    received = st.features.signed.get(kind, 0)
    if not await _sign(st, kind):
        return False
    if st.features.signed.get(kind, 0) == received:  # no CertificateSigned overtook the reply
        signing[kind] = st.spawn(_resend(st, kind, received))
    return True


def renew_if_due(st: ChargingStation) -> None:
    """A03.FR.02/03: the ChargingStationCertificate in use expires within a month: a new key
    pair and SignCertificate (checked after each boot and reconnect; a station that never had
    a certificate store has nothing to renew)."""
    if not st.features_built("certs") or "ChargingStationCertificate" in st.features.signing:
        return
    if st.features.certs.needs_renewal(store.CHARGE_POINT_CERTIFICATE) \
            and st.settings.text("OrganizationName"):
        st.spawn(request_certificate(st, "ChargingStationCertificate"))


async def _sign(st: ChargingStation, kind: str) -> bool:
    try:
        payload = sign_certificate_payload(st, kind)
    except ValueError as error:
        log.warning("%s: SignCertificate: %s", st.id, error)
        return False
    try:
        reply = await st.call("SignCertificate", payload)
    except CallFailed as error:
        log.info("%s: SignCertificate: %s", st.id, error)
        return False
    return reply.get("status") == "Accepted"


async def _resend(st: ChargingStation, kind: str, received: int) -> None:
    """A02.FR.17-19: the back-off while no CertificateSigned arrives (`received`: how many
    had arrived before it began)."""
    wait = max(1, st.settings.int("CertSigningWaitMinimum"))
    for _ in range(st.settings.int("CertSigningRepeatTimes")):
        await st.clock.sleep(wait)
        if st.features.signed.get(kind, 0) != received:
            break
        await _sign(st, kind)
        wait *= 2
    if st.features.signing.get(kind) is asyncio.current_task():
        del st.features.signing[kind]


def certificate_signed(st: ChargingStation, p: dict) -> dict:
    """A02.FR.06/07: the chain is checked (CN, O, the pending key, the CSMS root) and installed:
    Accepted; else Rejected and the security event InvalidChargingStationCertificate. Either
    way the SignCertificate back-off ends (A02.FR.17; after a Rejected one nothing is asked
    until a TriggerMessage, A02.FR.20). A certificateType left out is a
    ChargingStationCertificate. A new ChargingStationCertificate at profile 3 is used at once:
    the station reconnects with it (A02.FR.08)."""
    name = p.get("certificateType", "ChargingStationCertificate")
    kind = LEAF_NAMES.get(name)
    if kind is None:
        return {"status": "Rejected"}
    features = st.features
    features.signed[name] = features.signed.get(name, 0) + 1
    task = features.signing.pop(name, None)
    if task is not None:
        task.cancel()
    ok = st.features.certs.install_leaf(kind, p["certificateChain"])
    if ok and kind == store.CHARGE_POINT_CERTIFICATE and st.security_profile == 3:
        st.spawn(_reconnect(st))
    return {"status": "Accepted" if ok else "Rejected"}


async def _reconnect(st: ChargingStation) -> None:
    await asyncio.sleep(0)  # the response goes out first
    session = st.session
    if session is not None:
        with contextlib.suppress(Exception):
            await session.close()


# M03-M05 -------------------------------------------------------------------------------------


def install_certificate(st: ChargingStation, p: dict) -> dict:
    """M05: Accepted when the root is installed; Rejected when invalid (M05.FR.06) or when the
    store is full (M05.FR.03, SecurityCtrlr.CertificateEntries); Failed when it cannot be
    written (M05.FR.04)."""
    kind = ROOT_NAMES.get(p["certificateType"])
    if kind is None:
        return {"status": "Rejected"}
    return {"status": st.features.certs.install_root(kind, p["certificate"])}


def delete_certificate(st: ChargingStation, p: dict) -> dict:
    """M04: Accepted, NotFound (M04.FR.04), or Failed for the ChargingStationCertificate and the
    CSMS root of the connection in use (M04.FR.05/06)."""
    return {"status": st.features.certs.delete(p["certificateHashData"])}


def get_installed_certificate_ids(st: ChargingStation, p: dict) -> dict:
    """M03: the hash data of the roots of the types asked for (all when none is named), and of
    the V2GCertificateChain; NotFound when there is none (M03.FR.02)."""
    wanted = p.get("certificateType") or [*ROOT_NAMES, "V2GCertificateChain"]
    certs = st.features.certs
    found: list[dict] = []
    names = {v: k for k, v in ROOT_NAMES.items()}
    roots = [ROOT_NAMES[w] for w in wanted if w in ROOT_NAMES]
    for kind, data in certs.installed(roots):
        found.append({"certificateType": names[kind], "certificateHashData": data})
    if "V2GCertificateChain" in wanted:
        chain = certs.leaf_hashes(store.V2G_CERTIFICATE)
        if chain:
            entry: dict[str, Any] = {"certificateType": "V2GCertificateChain",
                                     "certificateHashData": chain[0]}
            if len(chain) > 1:
                entry["childCertificateHashData"] = chain[1:]
            found.append(entry)
    if not found:
        return {"status": "NotFound"}
    return {"status": "Accepted", "certificateHashDataChain": found}
