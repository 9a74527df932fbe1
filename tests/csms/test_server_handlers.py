"""Each charge-point-initiated action against the running CSMS, checked in its reply and store."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest

from chargebench.ocppj.v16 import OCPP16
from chargebench.security import init_pki, make_csr
from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint, now_iso
from csms.v16.handlers import HANDLERS

PNC = "org.openchargealliance.iso15118pnc"


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             call_timeout=2) as central:  # fmt: skip
        seed_handler_data(central.store)
        yield central


def seed_handler_data(store) -> None:
    """The charger and id tags the handler suite expects, on whichever backend it runs."""
    store.upsert_charger("CP1", serial="SN-1", registration_status="Accepted")
    store.upsert_id_tag("GROUP")
    store.upsert_id_tag("TAG-OK", parent_id_tag="GROUP")
    store.upsert_id_tag("TAG-2")
    store.upsert_id_tag("TAG-BLOCKED", status="Blocked")
    store.upsert_id_tag("TAG-OLD", expiry_date="2020-01-01T00:00:00Z")


@pytest.fixture
async def cp(csms):
    async with await ScriptedChargePoint.connect(csms.url("CP1"), "CP1") as client:
        await client.boot(chargePointSerialNumber="SN-1", firmwareVersion="1.2.3")
        yield client


def meter(value: str, unit: str, measurand: str = "Energy.Active.Import.Register") -> dict:
    return {"timestamp": now_iso(),
            "sampledValue": [{"value": value, "unit": unit, "measurand": measurand}]}  # fmt: skip


def test_every_charge_point_action_has_a_handler():
    """All 14 charge-point-initiated actions of 1.6 and the security whitepaper are handled."""
    assert set(HANDLERS) == set(OCPP16.cp_initiated)


class TestCore:
    async def test_boot_is_stored(self, csms, cp):
        """OCPP 1.6 §4.2: vendor, model, serial and firmware version are kept; boot time set."""
        charger = csms.store.get_charger("CP1")
        assert (charger["vendor"], charger["firmware_version"]) == ("ChargeBench", "1.2.3")
        assert charger["last_boot"] is not None

    async def test_heartbeat_records_time(self, csms, cp):
        """OCPP 1.6 §4.6: the heartbeat time is stored and currentTime returned."""
        reply = await cp.call("Heartbeat")
        assert reply["currentTime"].endswith("Z")
        assert csms.store.get_charger("CP1")["last_heartbeat"] is not None

    async def test_status_of_each_connector_with_error_code(self, csms, cp):
        """OCPP 1.6 §4.9: connector 0 and each connector, error codes kept as sent."""
        await cp.call("StatusNotification", {"connectorId": 0, "status": "Available",
                                             "errorCode": "NoError"})  # fmt: skip
        await cp.call("StatusNotification", {
            "connectorId": 2, "status": "Faulted", "errorCode": "GroundFailure",
            "vendorErrorCode": "E42", "info": "RCD tripped"})  # fmt: skip
        faulted = csms.store.get_connector("CP1", 2)
        assert (faulted["status"], faulted["error_code"]) == ("Faulted", "GroundFailure")
        assert faulted["vendor_error_code"] == "E42"
        assert csms.store.get_connector("CP1", 0)["status"] == "Available"

    @pytest.mark.parametrize(("tag", "status"), [
        ("TAG-OK", "Accepted"), ("TAG-BLOCKED", "Blocked"), ("TAG-OLD", "Expired"),
        ("NOBODY", "Invalid"),
    ])  # fmt: skip
    async def test_authorize_statuses(self, cp, tag, status):
        """OCPP 1.6 §4.1: the stored tag decides Accepted / Blocked / Expired / Invalid."""
        assert (await cp.call("Authorize", {"idTag": tag}))["idTagInfo"]["status"] == status

    async def test_authorize_gives_parent(self, cp):
        """OCPP 1.6 §4.1: the parentIdTag of a group member is returned."""
        info = (await cp.call("Authorize", {"idTag": "TAG-OK"}))["idTagInfo"]
        assert info["parentIdTag"] == "GROUP"

    async def test_start_gives_unique_ids_and_replay_same_id(self, csms, cp):
        """OCPP 1.6 §4.8: each start gets a new transactionId; a retried start gets its own back."""
        at = "2026-01-01T10:00:00Z"
        first = await cp.start_transaction("TAG-OK", connector_id=1, timestamp=at)
        second = await cp.start_transaction("TAG-2", connector_id=2)
        again = await cp.start_transaction("TAG-OK", connector_id=1, timestamp=at)
        assert first["transactionId"] != second["transactionId"]
        assert again == first
        assert again["idTagInfo"]["status"] == "Accepted"

    async def test_second_start_with_same_tag_is_concurrent(self, cp):
        """OCPP 1.6 §7.2 ConcurrentTx: a tag already charging cannot start a second transaction."""
        await cp.start_transaction("TAG-OK", connector_id=1)
        second = await cp.start_transaction("TAG-OK", connector_id=2)
        assert second["idTagInfo"]["status"] == "ConcurrentTx"
        assert second["transactionId"] > 0  # §4.8: an id is given anyway

    async def test_start_consumes_reservation(self, csms, cp):
        """OCPP 1.6 §5.13: a transaction started on a reservation marks it Used."""
        rid = csms.store.create_reservation("CP1", 1, "TAG-OK", "2030-01-01T00:00:00Z")
        reply = await cp.start_transaction("TAG-OK", reservationId=rid)
        reservation = csms.store.get_reservation(rid)
        assert (reservation["status"], reservation["transaction_id"]) == (
            "Used", reply["transactionId"])

    async def test_stop_stores_data_and_is_idempotent(self, csms, cp):
        """OCPP 1.6 §4.10: transactionData is kept; a replayed stop changes nothing."""
        tx = (await cp.start_transaction("TAG-OK", meter_start=1000))["transactionId"]
        stop = {"transactionData": [meter("2.5", "kWh")], "idTag": "TAG-OK", "reason": "Local"}
        first = await cp.stop_transaction(tx, 3500, timestamp="2026-01-01T11:00:00Z", **stop)
        again = await cp.stop_transaction(tx, 9999, timestamp="2026-01-01T12:00:00Z", **stop)
        assert first == again == {"idTagInfo": {"status": "Accepted", "parentIdTag": "GROUP"}}
        record = csms.store.get_transaction(tx)
        assert (record["meter_stop"], record["energy_wh"]) == (3500, 2500)
        assert len(csms.store.list_meter_values(transaction_id=tx)) == 1

    async def test_stop_of_unknown_transaction_is_acknowledged(self, cp):
        """A stop for a transaction the CSMS never saw is answered so the charger stops retrying."""
        assert await cp.stop_transaction(424242, 10) == {}

    async def test_meter_values_normalised(self, csms, cp):
        """OCPP 1.6 §4.7: every sampledValue is stored; kWh and kW become Wh and W."""
        tx = (await cp.start_transaction("TAG-OK"))["transactionId"]
        value = meter("1.5", "kWh")
        value["sampledValue"].append({"value": "7.4", "unit": "kW",
                                      "measurand": "Power.Active.Import"})  # fmt: skip
        await cp.call("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [value]})
        rows = {r["measurand"]: r for r in csms.store.list_meter_values(transaction_id=tx)}
        assert rows["Energy.Active.Import.Register"]["norm_value"] == Decimal("1500")
        assert (rows["Power.Active.Import"]["norm_value"], rows["Power.Active.Import"]["norm_unit"]
                ) == (Decimal("7400"), "W")  # fmt: skip

    async def test_data_transfer_unknown_vendor_and_message(self, cp):
        """OCPP 1.6 §4.3: UnknownVendorId for a vendor we do not know, UnknownMessageId for a
        message of a known vendor."""
        reply = await cp.call("DataTransfer", {"vendorId": "com.example"})
        assert reply["status"] == "UnknownVendorId"
        reply = await cp.call("DataTransfer", {"vendorId": PNC, "messageId": "Nope"})
        assert reply["status"] == "UnknownMessageId"


class TestFirmwareAndSecurity:
    async def test_firmware_status_updates_deployment(self, csms, cp):
        """OCPP 1.6 §6.5: FirmwareStatusNotification moves the open deployment's status."""
        did = csms.store.create_firmware_deployment("CP1", "http://fw/1.bin", now_iso())
        await cp.call("FirmwareStatusNotification", {"status": "Downloading"})
        await cp.call("FirmwareStatusNotification", {"status": "Installed"})
        deployment = csms.store.get_firmware_deployment(did)
        assert deployment["status"] == "Installed"
        assert [h["status"] for h in deployment["history"]][-2:] == ["Downloading", "Installed"]

    async def test_diagnostics_and_log_status(self, csms, cp):
        """OCPP 1.6 §6.3 and whitepaper N01: status notifications reach their request."""
        diag = csms.store.create_diagnostics_request("CP1", "ftp://up/")
        log_req = csms.store.create_diagnostics_request("CP1", "ftp://up/", log_type="SecurityLog")
        await cp.call("DiagnosticsStatusNotification", {"status": "Uploaded"})
        await cp.call("LogStatusNotification", {"status": "Uploading", "requestId": log_req})
        assert csms.store.get_diagnostics_request(diag)["status"] == "Uploaded"
        assert csms.store.get_diagnostics_request(log_req)["status"] == "Uploading"

    async def test_signed_firmware_status_by_request_id(self, csms, cp):
        """Whitepaper L01: SignedFirmwareStatusNotification names its deployment by requestId."""
        did = csms.store.create_firmware_deployment("CP1", "http://fw/2.bin", now_iso())
        await cp.call("SignedFirmwareStatusNotification",
                      {"status": "InvalidSignature", "requestId": did})  # fmt: skip
        assert csms.store.get_firmware_deployment(did)["status"] == "InvalidSignature"

    async def test_security_event_logged(self, csms, cp):
        """Whitepaper A04: SecurityEventNotification is kept with its techInfo."""
        await cp.call("SecurityEventNotification", {
            "type": "TamperDetectionActivated", "timestamp": now_iso(), "techInfo": "lid"})
        (event,) = csms.store.list_security_events(charger_id="CP1")
        assert (event["type"], event["tech_info"]) == ("TamperDetectionActivated", "lid")

    async def test_sign_certificate_then_certificate_signed(self, tmp_path):
        """Whitepaper A02: Accepted, then CertificateSigned.req with a chain the CSMS CA signed,
        recorded once the charger accepts it."""
        pki = init_pki(tmp_path / "pki")
        async with CentralSystem(port=0, db=tmp_path / "c.db", log_dir=None,
                                 tls_ca=pki.ca_cert, ca_key=pki.ca_key) as csms:  # fmt: skip
            csms.store.upsert_charger("CP1", serial="SN-1", registration_status="Accepted")
            async with await ScriptedChargePoint.connect(csms.url("CP1"), "CP1") as cp:
                await cp.boot()
                csr, _key = make_csr("SN-1", csms.config.cpo_name)
                assert (await cp.call("SignCertificate", {"csr": csr}))["status"] == "Accepted"
                action, payload = await cp.next_call()
                assert action == "CertificateSigned"
                assert payload["certificateChain"].startswith("-----BEGIN CERTIFICATE-----")
                bad_csr, _ = make_csr("SOMEONE-ELSE", csms.config.cpo_name)
                assert (await cp.call("SignCertificate", {"csr": bad_csr}))["status"] == "Rejected"
            # recorded when the CSMS has read the charger's Accepted, a moment after it was sent
            async with asyncio.timeout(5):
                while not csms.store.list_certificates("CP1"):
                    await asyncio.sleep(0.02)
            (cert,) = csms.store.list_certificates("CP1")
            assert cert["certificate_type"] == "ChargePointCertificate"

    async def test_sign_certificate_with_charge_box_serial(self, tmp_path):
        """A CSR whose CN is the chargeBoxSerialNumber (libocpp's choice) is signed once the
        operator registered that serial; a serial the boot merely claims is not (A00.FR.405:
        the CSMS cannot check a claim), nor is another."""
        pki = init_pki(tmp_path / "pki")
        async with CentralSystem(port=0, db=tmp_path / "c.db", log_dir=None,
                                 tls_ca=pki.ca_cert, ca_key=pki.ca_key) as csms:  # fmt: skip
            csms.store.upsert_charger("CP1", serial="BOX-9", registration_status="Accepted")
            async with await ScriptedChargePoint.connect(csms.url("CP1"), "CP1") as cp:
                await cp.boot(chargePointSerialNumber="SN-1", chargeBoxSerialNumber="BOX-9")
                csr, _key = make_csr("BOX-9", csms.config.cpo_name)
                assert (await cp.call("SignCertificate", {"csr": csr}))["status"] == "Accepted"
                for cn in ("SN-1", "BOX-10"):
                    other, _ = make_csr(cn, csms.config.cpo_name)
                    reply = await cp.call("SignCertificate", {"csr": other})
                    assert reply["status"] == "Rejected", cn

    async def test_sign_certificate_without_ca_rejected(self, cp):
        """Without a CA key the CSMS cannot sign, so it rejects the CSR."""
        csr, _ = make_csr("SN-1", "ChargeBench CPO")
        assert (await cp.call("SignCertificate", {"csr": csr}))["status"] == "Rejected"


class TestPlugAndCharge:
    async def pnc(self, cp, message_id: str, data: dict) -> dict:
        reply = await cp.call("DataTransfer", {"vendorId": PNC, "messageId": message_id,
                                               "data": json.dumps(data)})  # fmt: skip
        assert reply["status"] == "Accepted"
        return json.loads(reply["data"])

    async def test_authorize_emaid(self, cp):
        """PnC Authorize: the eMAID is checked like an id tag."""
        ok = await self.pnc(cp, "Authorize", {"idToken": {"idToken": "TAG-OK", "type": "eMAID"}})
        bad = await self.pnc(cp, "Authorize", {"idToken": {"idToken": "X", "type": "eMAID"}})
        assert (ok["idTokenInfo"]["status"], bad["idTokenInfo"]["status"]) == ("Accepted",
                                                                                 "Invalid")

    async def test_certificate_services_fail_without_back_end(self, cp):
        """Get15118EVCertificate / GetCertificateStatus answer Failed: no MO or OCSP back end."""
        ev = await self.pnc(cp, "Get15118EVCertificate", {
            "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": "Install",
            "exiRequest": "AA=="})  # fmt: skip
        status = await self.pnc(cp, "GetCertificateStatus", {"ocspRequestData": {
            "hashAlgorithm": "SHA256", "issuerNameHash": "a", "issuerKeyHash": "b",
            "serialNumber": "1", "responderURL": "http://ocsp.example"}})  # fmt: skip
        assert (ev["status"], status["status"]) == ("Failed", "Failed")

    @pytest.mark.parametrize("data", [
        json.dumps({"ocspRequestData": {}}),            # against the 2.0.1 schema
        json.dumps({"idToken": "not an object"}),
        '{"idToken": {"idToken": "\\ud800", "type": "eMAID"}}',  # a lone surrogate inside
        "[" * 100000 + "]" * 100000,                    # too deep to parse
        '{"idToken": NaN}',
    ])  # fmt: skip
    async def test_data_that_its_schema_refuses_is_rejected_with_a_reason(self, cp, data):
        """The wrapped 2.0.1 payload is held to the `ocpp` package's schema and read by the
        rules of frames: DataTransfer.conf Rejected (1.6 §4.3), never an InternalError."""
        message = "GetCertificateStatus" if "ocsp" in data else "Authorize"
        reply = await cp.call("DataTransfer", {"vendorId": PNC, "messageId": message,
                                               "data": data})  # fmt: skip
        assert reply["status"] == "Rejected" and reply["data"]
