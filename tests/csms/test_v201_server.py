"""The reference CSMS speaking OCPP 2.0.1 beside 1.6, over real websockets on 127.0.0.1,
against an independent 2.0.1 station (`tests.csms.peer201`, the `ocpp` package's ChargePoint)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from decimal import Decimal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from ocpp.exceptions import SecurityError
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as dt
from ocpp.v201.enums import (
    ConnectorStatusEnumType as Connector,
)
from ocpp.v201.enums import (
    ReadingContextEnumType as Context,
)
from ocpp.v201.enums import (
    TransactionEventEnumType as Event,
)
from ocpp.v201.enums import (
    TriggerReasonEnumType as Trigger,
)
from websockets.asyncio.client import connect

from chargebench.ocppj.v201 import OCPP201
from chargebench.security import init_pki, make_csr
from csms.api.resources import with_estimates
from csms.central import CentralSystem
from csms.v201.handlers import HANDLERS, meter_values_16
from tests.csms.peer201 import now, station
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)


@pytest.fixture
def db(tmp_path):
    """The CSMS's store: a SQLite file (`any_db` adds PostgreSQL)."""
    return tmp_path / "csms.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, tmp_path):
    """The store of a test run on both backends: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "csms.db"
    return request.getfixturevalue("pg_url")


def _seed(central: CentralSystem) -> CentralSystem:
    central.store.upsert_id_tag("GROUP")
    central.store.upsert_id_tag("TAG-OK", parent_id_tag="GROUP")
    central.store.upsert_id_tag("TAG-BLOCKED", status="Blocked")
    central.store.set_tariff(None, Decimal("10"), "INR")
    return central


@pytest.fixture
async def csms(db):
    async with CentralSystem(port=0, db=db, log_dir=None, call_timeout=2) as central:
        yield _seed(central)


@pytest.fixture
async def csms_any(any_db):
    """`csms` on each backend."""
    async with CentralSystem(port=0, db=any_db, log_dir=None, call_timeout=2) as central:
        yield _seed(central)


def test_handlers_are_station_messages_of_2_0_1():
    """Every message a 2.0.1 station sends has its handler, and nothing else has one (issue 18
    point 2; the newer ones: tests/csms/test_v201_messages.py)."""
    assert set(HANDLERS) == OCPP201.cp_initiated


def test_meter_values_are_scaled_by_their_multiplier():
    """SampledValueType: value x 10^multiplier, unit as sent; no unitOfMeasure leaves the unit to
    the measurand (a Voltage is V, not the schema's default Wh)."""
    [converted] = meter_values_16([{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [
        {"value": 7.5, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}},
        {"value": 1234, "measurand": "Voltage", "phase": "L1"},
        {"value": 0.25, "context": "Transaction.End", "unitOfMeasure": {"unit": "kWh"}},
    ]}])  # fmt: skip
    assert converted["sampledValue"] == [
        {"value": "7500", "unit": "Wh"},
        {"value": "1234", "measurand": "Voltage", "phase": "L1"},
        {"value": "0.25", "unit": "kWh", "context": "Transaction.End"},
    ]


async def test_boot_heartbeat_status_authorize(csms):
    """B01, G02, G01, C01 with every optional field the peer has: stored and answered."""
    async with station(csms.url("CS201"), "CS201") as cs:
        assert cs.ws.subprotocol == "ocpp2.0.1"
        boot = await cs.boot()
        assert (boot.status, boot.interval) == ("Accepted", csms.config.heartbeat_interval)
        charger = csms.store.get_charger("CS201")
        assert (charger["vendor"], charger["model"], charger["serial"],
                charger["firmware_version"]) == ("Indep", "V201", "SN-201", "2.0.1-test")
        assert (await cs.call(call201.Heartbeat(), suppress=False)).current_time
        await cs.status(1, 1, Connector.available)
        await cs.status(2, 1, Connector.faulted)
        await cs.status(1, 1, Connector.occupied)
        assert [(c["evse_id"], c["connector_id"], c["status"])
                for c in csms.store.list_evse_connectors("CS201")] == [
            (1, 1, "Occupied"), (2, 1, "Faulted")]  # fmt: skip
        ok = await cs.authorize("TAG-OK")
        assert ok.id_token_info == {"status": "Accepted",
                                    "group_id_token": {"id_token": "GROUP", "type": "Central"}}
        assert (await cs.authorize("TAG-BLOCKED")).id_token_info["status"] == "Blocked"
        assert (await cs.authorize("NOBODY")).id_token_info["status"] == "Unknown"
        await cs.call(call201.SecurityEventNotification(
            type="FirmwareUpdated", timestamp=now(), tech_info="t"), suppress=False)  # fmt: skip
        [event] = csms.store.list_security_events(charger_id="CS201")
        assert event["type"] == "FirmwareUpdated"


async def test_transaction_started_updated_ended_is_stored_and_billed(csms):
    """E01-E06: one transaction by the station's string id, events by seqNo, idTokenInfo
    answered where the event carries a token, energy from the register (kWh, scaled to Wh),
    billed at Ended with the tariff (7.5 kWh x 10 INR)."""
    async with station(csms.url("CS201"), "CS201") as cs:
        await cs.boot()
        started = await cs.event(Event.started, "tx-0001", 0, Trigger.authorized, token="TAG-OK",
                                 register_wh=1000, context=Context.transaction_begin)
        assert started.id_token_info["status"] == "Accepted"
        updated = await cs.event(Event.updated, "tx-0001", 1, Trigger.charging_state_changed,
                                 charging_state="Charging")  # fmt: skip
        assert updated.id_token_info is None  # no token in the event, none in the answer
        await cs.call(call201.MeterValues(evse_id=1, meter_value=[dt.MeterValueType(
            timestamp=now(), sampled_value=[dt.SampledValueType(value=230.0, measurand="Voltage",
            unit_of_measure=dt.UnitOfMeasureType(unit="V"))])]), suppress=False)  # fmt: skip
        await cs.event(Event.ended, "tx-0001", 2, Trigger.ev_departed, register_wh=8500,
                       context=Context.transaction_end, stopped_reason="EVDisconnected")
    tx_id = csms.store.station_transaction("CS201", "tx-0001")
    tx = csms.store.get_transaction(tx_id)
    assert (tx["connector_id"], tx["id_tag"], tx["meter_start"], tx["meter_stop"],
            tx["energy_wh"], tx["stop_reason"]) == (1, "TAG-OK", 1000, 8500, 7500,
                                                     "EVDisconnected")  # fmt: skip
    assert (tx["status"], tx["amount"]) == ("Completed", Decimal("75.00"))
    events = csms.store.list_transaction_events("CS201", "tx-0001")
    assert [(e["seq_no"], e["event_type"], e["charging_state"]) for e in events] == [
        (0, "Started", None), (1, "Updated", "Charging"), (2, "Ended", None)]
    voltages = csms.store.list_meter_values(charger_id="CS201", measurand="Voltage")
    assert [(v["value"], v["transaction_id"]) for v in voltages] == [("230", None)]


async def test_running_and_total_cost_are_answered_in_the_event_response(csms_any, tmp_path):
    """I02.FR.01: an event carrying a register reading is answered with the running cost (the
    energy since the first reading at the tariff: 10 INR/kWh); one without a reading leaves
    it out; I03.FR.02: Ended gets the billed total. The API's running estimate counts from the
    first reading too. I03.FR.04: a free tariff answers 0.00; no tariff leaves it out."""
    csms = csms_any
    async with station(csms.url("CS201"), "CS201") as cs:
        await cs.boot()
        started = await cs.event(Event.started, "tx-c", 0, Trigger.authorized, token="TAG-OK",
                                 register_wh=1000, context=Context.transaction_begin)
        assert started.total_cost == 0.0
        plain = await cs.event(Event.updated, "tx-c", 1, Trigger.charging_state_changed,
                               charging_state="Charging")  # fmt: skip
        assert plain.total_cost is None
        running = await cs.event(Event.updated, "tx-c", 2, Trigger.meter_value_periodic,
                                 register_wh=4000, context=Context.sample_periodic)
        assert running.total_cost == 30.0
        [row] = with_estimates(csms.store, [csms.store.get_transaction(
            csms.store.station_transaction("CS201", "tx-c"))])  # fmt: skip
        assert (row["live_energy_wh"], row["estimated_cost"]) == (3000, Decimal("30.00"))
        ended = await cs.event(Event.ended, "tx-c", 3, Trigger.ev_departed, register_wh=8500,
                               context=Context.transaction_end, stopped_reason="EVDisconnected")
        assert ended.total_cost == 75.0
        csms.store.set_tariff(None, Decimal("0"), "INR")
        await cs.event(Event.started, "tx-free", 0, Trigger.authorized, token="TAG-OK",
                       register_wh=100, context=Context.transaction_begin)
        free = await cs.event(Event.ended, "tx-free", 1, Trigger.ev_departed, register_wh=900,
                              context=Context.transaction_end)
        assert free.total_cost == 0.0
    async with (CentralSystem(port=0, db=tmp_path / "untariffed.db", log_dir=None) as bare,
                station(bare.url("CS-NT"), "CS-NT") as cs):  # fmt: skip
        await cs.boot()
        await cs.event(Event.started, "tx-n", 0, Trigger.authorized, register_wh=100,
                       context=Context.transaction_begin)
        unknown = await cs.event(Event.ended, "tx-n", 1, Trigger.ev_departed,
                                 register_wh=900, context=Context.transaction_end)
        assert unknown.total_cost is None


async def test_a_token_in_another_running_transaction_is_concurrent(csms):
    """AuthorizationStatus ConcurrentTx: a token already running a transaction on one station
    is answered ConcurrentTx when another station starts with it; in its own transaction's
    later events it stays Accepted."""
    async with station(csms.url("CS-A"), "CS-A") as a, station(csms.url("CS-B"), "CS-B") as b:
        await a.boot()
        await b.boot()
        first = await a.event(Event.started, "A-1", 0, Trigger.authorized, token="TAG-OK")
        second = await b.event(Event.started, "B-1", 0, Trigger.authorized, token="TAG-OK")
        again = await a.event(Event.updated, "A-1", 1, Trigger.authorized, token="TAG-OK")
    assert [r.id_token_info["status"] for r in (first, second, again)] == [
        "Accepted", "ConcurrentTx", "Accepted"]
    other = csms.store.get_transaction(csms.store.station_transaction("CS-B", "B-1"))
    assert (other["id_tag_status"], other["status"]) == ("ConcurrentTx", "NotAuthorized")


async def test_minimal_legal_variant_and_a_retried_event(csms):
    """Optional fields left out (boot without serial, events without EVSE, token or meter) are
    legal and accepted; a retried event (same seqNo) is answered and stored once; with no
    register reading there is no energy to bill: billing review, not a guess."""
    async with station(csms.url("CS-MIN"), "CS-MIN") as cs:
        assert (await cs.boot(serial=None)).status == "Accepted"
        assert csms.store.get_charger("CS-MIN")["serial"] is None
        await cs.event(Event.started, "t", 0, Trigger.cable_plugged_in, evse=None)
        await cs.event(Event.started, "t", 0, Trigger.cable_plugged_in, evse=None)
        await cs.event(Event.ended, "t", 1, Trigger.ev_communication_lost, evse=None)
    assert len(csms.store.list_transaction_events("CS-MIN", "t")) == 2
    tx = csms.store.get_transaction(csms.store.station_transaction("CS-MIN", "t"))
    assert (tx["id_tag"], tx["status"]) == ("", "BillingReview")


async def test_firmware_log_event_and_data_transfer(csms):
    """L01, N01: statuses kept with their requestId; N07: an event's actualValue becomes the
    variable's reported value; P01.FR.05: an unknown vendor is UnknownVendorId."""
    async with station(csms.url("CS201"), "CS201") as cs:
        await cs.boot()
        # the requests the CSMS recorded when it asked (the 2.0.1 commands are issue 18 point 3)
        firmware = csms.store.create_firmware_deployment("CS201", "https://fw", now())
        upload = csms.store.create_diagnostics_request("CS201", "ftp://logs",
                                                       log_type="DiagnosticsLog")  # fmt: skip
        await cs.call(call201.FirmwareStatusNotification(
            status="Downloading", request_id=firmware), suppress=False)  # fmt: skip
        await cs.call(call201.LogStatusNotification(status="Uploading", request_id=upload),
                      suppress=False)  # fmt: skip
        await cs.call(call201.NotifyEvent(generated_at=now(), seq_no=0, event_data=[
            dt.EventDataType(event_id=1, timestamp=now(), trigger="Delta", actual_value="Occupied",
                             component=dt.ComponentType(name="Connector",
                                                        evse=dt.EVSEType(id=1, connector_id=1)),
                             variable=dt.VariableType(name="AvailabilityState"),
                             event_notification_type="HardWiredNotification")]),
            suppress=False)  # fmt: skip
        reply = await cs.call(call201.DataTransfer(vendor_id="com.example", message_id="x"),
                              suppress=False)  # fmt: skip
        assert reply.status == "UnknownVendorId"
    reported = csms.store.get_reported_config("CS201")
    assert reported["Connector/AvailabilityState@1.1"]["value"] == "Occupied"
    assert csms.store.get_firmware_deployment(firmware)["status"] == "Downloading"
    assert csms.store.get_diagnostics_request(upload)["status"] == "Uploading"


async def test_sign_certificate_then_certificate_signed(tmp_path):
    """A02: Accepted (A02.FR.11), then CertificateSigned with a chain the CSMS's CA signed and
    the certificateType asked for (A02.FR.14), recorded once the station accepts it; a CSR for
    another station, or a V2G certificate, is Rejected (A02.FR.12)."""
    pki = init_pki(tmp_path / "pki")
    async with CentralSystem(port=0, db=tmp_path / "c.db", log_dir=None,
                             tls_ca=pki.ca_cert, ca_key=pki.ca_key) as csms:  # fmt: skip
        csms.store.upsert_charger("CS201", serial="SN-201",  # the operator's (A00.FR.405)
                                  registration_status="Accepted")
        async with station(csms.url("CS201"), "CS201") as cs:
            await cs.boot()  # serial SN-201
            csr, _key = make_csr("SN-201", csms.config.cpo_name)
            reply = await cs.call(call201.SignCertificate(
                csr=csr, certificate_type="ChargingStationCertificate"), suppress=False)
            assert reply.status == "Accepted"
            action, payload = await asyncio.wait_for(cs.received.get(), 5)
            assert action == "CertificateSigned"
            assert payload["certificate_chain"].startswith("-----BEGIN CERTIFICATE-----")
            assert payload["certificate_type"] == "ChargingStationCertificate"
            other, _ = make_csr("SOMEONE-ELSE", csms.config.cpo_name)
            refused = await cs.call(call201.SignCertificate(csr=other), suppress=False)
            assert (refused.status, refused.status_info["reason_code"]) == ("Rejected",
                                                                           "InvalidCSR")
            v2g = await cs.call(call201.SignCertificate(csr=csr, certificate_type="V2GCertificate"),
                                suppress=False)  # fmt: skip
            assert v2g.status == "Rejected"
            for _ in range(50):  # the record follows the peer's reply
                if csms.store.list_certificates("CS201"):
                    break
                await asyncio.sleep(0.02)
        assert len(csms.store.list_certificates("CS201")) == 1


async def test_an_id_token_is_its_value_and_its_type(csms):
    """C01: a tag registered as ISO14443 authorizes an ISO14443 token, not an eMAID of the same
    value (Unknown: no such token); a tag registered without a type (TAG-OK) takes any."""
    from ocpp.v201.enums import IdTokenEnumType as Kind

    csms.store.upsert_id_tag("04A2B3C4", token_type="ISO14443")
    async with station(csms.url("CS201"), "CS201") as cs:
        await cs.boot()

        async def status(value: str, kind: str) -> str:
            reply = await cs.call(call201.Authorize(id_token=dt.IdTokenType(value, kind)),
                                  suppress=False)  # fmt: skip
            return reply.id_token_info["status"]

        assert await status("04A2B3C4", Kind.iso14443) == "Accepted"
        assert await status("04A2B3C4", Kind.e_maid) == "Unknown"
        assert await status("TAG-OK", Kind.e_maid) == await status("TAG-OK", Kind.key_code) == (
            "Accepted")


async def test_the_csms_ca_answers_ocsp_for_what_it_issued(tmp_path):
    """M06: GetCertificateStatus for the station certificate the CSMS's CA signed (A02) is
    Accepted with an OCSP response (RFC 6960) signed by that CA: good, for the serial asked
    (the request's hashes made by `cryptography`'s OCSP builder, the response read and its
    signature checked by it); a serial the CA did not issue is unknown; another issuer has no
    responder here: Failed without ocspResult (M06.FR.04)."""
    pki = init_pki(tmp_path / "pki")
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    async with (CentralSystem(port=0, db=tmp_path / "c.db", log_dir=None,
                              tls_ca=pki.ca_cert, ca_key=pki.ca_key) as csms,
                station(csms.url("CS201"), "CS201") as cs):  # fmt: skip
        await cs.boot()
        csr, _key = make_csr("CS201", csms.config.cpo_name)  # no serial registered: its id
        await cs.call(call201.SignCertificate(csr=csr), suppress=False)
        _, signed = await asyncio.wait_for(cs.received.get(), 5)
        for _ in range(100):  # the record follows the peer's reply
            if csms.store.list_certificates("CS201"):
                break
            await asyncio.sleep(0.02)
        mine = x509.load_pem_x509_certificate(signed["certificate_chain"].encode())

        async def ask(serial: int, issuer: x509.Certificate = ca) -> object:
            built = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
                hashlib.sha256(issuer.subject.public_bytes()).digest(),
                ocsp.OCSPRequestBuilder().add_certificate(
                    mine, issuer, hashes.SHA256()).build().issuer_key_hash,
                serial, hashes.SHA256()).build()  # fmt: skip
            data = dt.OCSPRequestDataType(
                hash_algorithm="SHA256", issuer_name_hash=built.issuer_name_hash.hex(),
                issuer_key_hash=built.issuer_key_hash.hex(),
                serial_number=format(built.serial_number, "X"),
                responder_url="http://ocsp.example")  # fmt: skip
            return await cs.call(call201.GetCertificateStatus(ocsp_request_data=data),
                                 suppress=False)  # fmt: skip

        good = await ask(mine.serial_number)
        assert good.status == "Accepted"
        answer = ocsp.load_der_ocsp_response(base64.b64decode(good.ocsp_result))
        assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
        assert (answer.certificate_status, answer.serial_number) == (
            ocsp.OCSPCertStatus.GOOD, mine.serial_number)
        ca.public_key().verify(answer.signature, answer.tbs_response_bytes,  # type: ignore[call-arg]
                               ec.ECDSA(hashes.SHA256()))  # fmt: skip
        stranger = ocsp.load_der_ocsp_response(base64.b64decode(
            (await ask(mine.serial_number + 1)).ocsp_result))  # fmt: skip
        assert stranger.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
        elsewhere = await ask(mine.serial_number, issuer=mine)  # another issuer's hashes
        assert (elsewhere.status, elsewhere.ocsp_result) == ("Failed", None)


async def test_a_csr_naming_another_station_is_rejected(tmp_path, any_db):
    """A00.FR.405/511: a station whose CSR names another station's id or registered serial
    gets no certificate for it (with one it could connect as that station with mutual TLS),
    nor for any serial it merely claims in its boot: the CN must be what the operator
    registered (its id while nothing is registered). One serial registered for two ids (an
    operator's choice) is signed for either."""
    pki = init_pki(tmp_path / "pki")
    async with CentralSystem(port=0, db=any_db, log_dir=None,
                             tls_ca=pki.ca_cert, ca_key=pki.ca_key) as csms:  # fmt: skip
        csms.store.upsert_charger("CS-VICTIM")  # registered, no serial known
        csms.store.upsert_charger("CS-OTHER", serial="SN-OTHER")

        async def sign(cn: str) -> tuple[str, str | None]:
            csr, _key = make_csr(cn, csms.config.cpo_name)
            reply = await thief.call(call201.SignCertificate(csr=csr), suppress=False)
            return reply.status, (reply.status_info or {}).get("reason_code")

        async with station(csms.url("CS-THIEF"), "CS-THIEF") as thief:
            for claim in ("CS-VICTIM", "SN-OTHER", "SN-THIEF"):  # claims the CSMS cannot check
                await thief.boot(serial=claim)
                assert await sign(claim) == ("Rejected", "InvalidCSR"), claim
            assert await sign("CS-THIEF") == ("Accepted", None)  # its id: nothing registered
            csms.store.upsert_charger("CS-THIEF", serial="SN-THIEF")  # the operator's word
            assert await sign("SN-THIEF") == ("Accepted", None)
            assert await sign("CS-THIEF") == ("Rejected", "InvalidCSR")
            assert csms.store.get_charger("CS-THIEF")["serial"] == "SN-THIEF"
            await thief.boot(serial="SN-OTHER")  # a later claim changes the shown serial only
            assert csms.store.get_charger("CS-THIEF")["serial"] == "SN-OTHER"
            assert await sign("SN-OTHER") == ("Rejected", "InvalidCSR")
            assert await sign("SN-THIEF") == ("Accepted", None)
            csms.store.upsert_charger("CS-OTHER", serial="SN-THIEF")  # one serial, two ids
            assert await sign("SN-THIEF") == ("Accepted", None)


async def test_pending_station_is_refused_all_but_boot_and_the_report_it_was_asked(tmp_path):
    """B02, B01.FR.10: a Pending station gets the retry interval; a Heartbeat is refused with
    SecurityError; the CSMS may ask for a report (B02.FR.01) and the NotifyReport that answers
    it is taken and stored."""
    async with CentralSystem(port=0, db=tmp_path / "c.db", log_dir=None,
                             unknown_chargers="pending") as csms:  # fmt: skip
        async with station(csms.url("CS-P"), "CS-P") as cs:
            boot = await cs.boot()
            assert (boot.status, boot.interval) == ("Pending", csms.config.boot_retry_interval)
            with pytest.raises(SecurityError):
                await cs.call(call201.Heartbeat(), suppress=False)
            reply = await csms.send("CS-P", "GetBaseReport",
                                    {"requestId": 5, "reportBase": "FullInventory"})
            assert reply == {"status": "Accepted"}
            # the peer queues this only when its NotifyReport got a CALLRESULT (suppress=False)
            action, payload = await asyncio.wait_for(cs.received.get(), 5)
            assert (action, payload["request_id"]) == ("NotifyReport", 5)
        reported = csms.store.get_reported_config("CS-P")
        assert reported["SecurityCtrlr/SecurityProfile"]["value"] == "1"
        assert reported["SecurityCtrlr/SecurityProfile"]["readonly"] is True


async def test_mixed_fleet_on_one_port(csms):
    """A 1.6 charge point and a 2.0.1 station on the same CSMS port at the same time, each
    answered in its own version (OCPP-J 2.0.1 §3.1.2)."""
    ws16 = await connect(csms.url("CP16"), subprotocols=["ocpp1.6"], compression=None, proxy=None)
    cp16 = ChargePoint16("CP16", ws16, response_timeout=5)
    reader = asyncio.get_running_loop().create_task(cp16.start())
    try:
        async with station(csms.url("CS201"), "CS201") as cs:
            boot16, boot201 = await asyncio.gather(
                cp16.call(call16.BootNotification(charge_point_vendor="V", charge_point_model="M"),
                          suppress=False),
                cs.boot(),
            )  # fmt: skip
            assert boot16.status == boot201.status == "Accepted"
            await asyncio.gather(
                cp16.call(call16.StatusNotification(connector_id=1, error_code="NoError",
                                                    status="Available"), suppress=False),
                cs.status(1, 1, Connector.available),
            )  # fmt: skip
            versions = {c.cp_id: c.session.core.version.name for c in csms.connections}
            assert versions == {"CP16": "1.6", "CS201": "2.0.1"}
            assert ws16.subprotocol == "ocpp1.6" and cs.ws.subprotocol == "ocpp2.0.1"
    finally:
        reader.cancel()
        await ws16.close()
    assert csms.store.get_connector("CP16", 1)["status"] == "Available"
    assert csms.store.list_evse_connectors("CS201")[0]["status"] == "Available"


@pytest.mark.parametrize("compression", [True, False])
async def test_websocket_compression_is_used_when_the_station_offers_it(tmp_path, compression):
    """OCPP-J 2.0.1 §3.3: RFC 7692 is required of a CSMS; the station offering it (websockets'
    own permessage-deflate) gets it and a compressed boot and report work. `--no-compression`
    refuses the extension, and the connection works uncompressed (§3.3: not a reason to close)."""
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None, call_timeout=2,
                             compression=compression) as central:  # fmt: skip
        async with station(central.url("CSZ"), "CSZ", compression="deflate") as cs:
            assert (await cs.boot()).status == "Accepted"
            await cs.status(1, 1, Connector.available)
            offered = cs.ws.response.headers.get("Sec-WebSocket-Extensions", "")
            assert ("permessage-deflate" in offered) is compression
            names = [extension.name for extension in cs.ws.protocol.extensions]
            assert names == (["permessage-deflate"] if compression else [])
        assert central.store.list_evse_connectors("CSZ")[0]["status"] == "Available"


@pytest.mark.parametrize(("offered", "agreed"), [
    (["ocpp2.0.1", "ocpp1.6"], "ocpp2.0.1"),
    (["ocpp1.6", "ocpp2.0.1"], "ocpp1.6"),
    (["ocpp1.6"], "ocpp1.6"),
    (["ocpp2.0.1"], "ocpp2.0.1"),
])
async def test_the_client_preferred_subprotocol_is_used(csms, offered, agreed):
    """OCPP-J 2.0.1 §3.1.3: the client lists versions by preference; the CSMS takes the first
    it speaks, and the connection speaks that version."""
    async with connect(csms.url("CSX"), subprotocols=offered, compression=None,
                       proxy=None) as ws:  # fmt: skip
        assert ws.subprotocol == agreed
        conn = await csms.connections.wait_for("CSX", timeout=5)
        assert conn.session.core.version.subprotocol == agreed


# (frame, CALLERROR code, reply id) of OCPP-J 2.0.1 §4.2.3/§4.3, over the wire, before any boot
MALFORMED = [
    ("{not json", "RpcFrameworkError", "-1"),
    ('[2, 7, "Heartbeat", {}]', "RpcFrameworkError", "-1"),
    ('[2, "m1", "Heartbeat"]', "RpcFrameworkError", "m1"),
    ('[5, "m2", "Heartbeat", {}]', "MessageTypeNotSupported", "-1"),
    ('[2, "m3", "Heartbeat", [1]]', "FormatViolation", "m3"),
    ('[2, "m4", "StartTransaction", {}]', "NotImplemented", "m4"),
    ('[2, "m5", "BootNotification", {"reason": "PowerUp"}]',
     "OccurrenceConstraintViolation", "m5"),
    ('[2, "m6", "BootNotification", {"reason": "PowerUp", "chargePointVendor": "V", '
     '"chargingStation": {"model": "M", "vendorName": "V"}}]', "ProtocolError", "m6"),
    ('[2, "m7", "BootNotification", {"reason": 1, "chargingStation": {"model": "M", '
     '"vendorName": "V"}}]', "TypeConstraintViolation", "m7"),
    ('[2, "m8", "BootNotification", {"reason": "Whim", "chargingStation": {"model": "M", '
     '"vendorName": "V"}}]', "PropertyConstraintViolation", "m8"),
    ('[2, "m9", "Heartbeat", {}]', "SecurityError", "m9"),  # B01.FR.10: not booted
]


async def test_malformed_frames_get_the_part4_callerror(csms):
    """Each malformed 2.0.1 frame gets the CALLERROR of OCPP-J 2.0.1 §4.3, "-1" when its id
    cannot be read (§4.2.3); the connection stays up and serves the next frame."""
    async with connect(csms.url("CS-BAD"), subprotocols=["ocpp2.0.1"], compression=None,
                       proxy=None) as ws:  # fmt: skip
        for frame, code, reply_id in MALFORMED:
            await ws.send(frame)
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert reply[:3] == [4, reply_id, code], (frame, reply)
            assert isinstance(reply[3], str) and reply[4] == {}
        # after boot the same connection serves a valid CALL (an unknown reservation: no
        # change, an empty CALLRESULT)
        await ws.send('[2, "b1", "BootNotification", {"reason": "PowerUp", '
                      '"chargingStation": {"model": "M", "vendorName": "V"}}]')
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))[2]["status"] == "Accepted"
        await ws.send('[2, "f1", "ReservationStatusUpdate", {"reservationId": 1, '
                      '"reservationUpdateStatus": "Expired"}]')
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == [3, "f1", {}]
