"""Transactions belong to the charger that started them; a tag runs one transaction at a time;
a connector runs one (issue 15 points 0, 6 and 7). Real chargers over real websockets."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from csms.central import CentralSystem
from csms.services import users
from csms.testing import ScriptedChargePoint, now_iso
from csms.v16.handlers import FOREIGN_TRANSACTION
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)


@pytest.fixture(params=["sqlite", "postgresql"])
async def csms(request: pytest.FixtureRequest, tmp_path):
    """The CSMS on a SQLite file, and on the throw-away PostgreSQL server, where concurrent
    starts are not serialised by SQLite's single writer."""
    db = tmp_path / "csms.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    async with CentralSystem(port=0, db=db, log_dir=None,
                             call_timeout=5) as central:  # fmt: skip
        store = central.store
        for cp_id in ("CP-A", "CP-B"):
            store.upsert_charger(cp_id, registration_status="Accepted")
        store.set_tariff(None, "10")
        yield central


async def charger(csms, cp_id: str) -> ScriptedChargePoint:
    cp = await ScriptedChargePoint.connect(csms.url(cp_id), cp_id)
    assert (await cp.boot())["status"] == "Accepted"
    return cp


def meter(wh: int) -> dict:
    return {"timestamp": now_iso(), "sampledValue": [
        {"value": str(wh), "unit": "Wh", "measurand": "Energy.Active.Import.Register"}]}


async def test_foreign_stop_and_meter_values_are_refused_and_the_victim_is_billed_right(csms):
    """CP-B names CP-A's transaction in StopTransaction and MeterValues: nothing is applied, the
    stop is answered idTagInfo Invalid, a security event is logged; CP-A's own stop then closes
    and bills its transaction from its own reading."""
    store = csms.store
    victim = users.create_user(store, "Victim")
    store.wallet_credit(victim["id"], Decimal("1000"), reference="seed")
    tag = victim["rfid_card_id"]
    a, b = await charger(csms, "CP-A"), await charger(csms, "CP-B")
    try:
        tx = (await a.start_transaction(tag, meter_start=1000))["transactionId"]
        mv = {"connectorId": 1, "transactionId": tx, "meterValue": [meter(26000)]}
        assert await b.call("MeterValues", mv) == {}
        forged = await b.stop_transaction(tx, 51000, transactionData=[meter(51000)])
        assert forged == {"idTagInfo": {"status": "Invalid"}}
        record = store.get_transaction(tx)
        assert record["stop_time"] is None and record["meter_stop"] is None
        assert store.list_meter_values(transaction_id=tx) == []
        assert store.get_wallet(victim["id"])["balance"] == Decimal("1000.00")
        events = store.list_security_events(charger_id="CP-B")
        assert [e["type"] for e in events] == [FOREIGN_TRANSACTION] * 2
        assert all(str(tx) in e["tech_info"] for e in events)
        # the victim's own messages still work
        await a.call("MeterValues", {"connectorId": 1, "transactionId": tx,
                                     "meterValue": [meter(2000)]})  # fmt: skip
        reply = await a.stop_transaction(tx, 3000, idTag=tag)
        assert reply["idTagInfo"]["status"] == "Accepted"
        record = store.get_transaction(tx)
        assert (record["meter_stop"], record["energy_wh"], record["status"]) == (
            3000, 2000, "Completed")
        assert record["amount"] == Decimal("20.00")
        assert store.get_wallet(victim["id"])["balance"] == Decimal("980.00")
        assert [r["value"] for r in store.list_meter_values(transaction_id=tx)] == ["2000"]
    finally:
        await a.close()
        await b.close()


async def test_meter_values_on_another_connector_are_not_attached(csms):
    a = await charger(csms, "CP-A")
    try:
        csms.store.upsert_id_tag("TAG")
        tx = (await a.start_transaction("TAG", connector_id=1))["transactionId"]
        await a.call("MeterValues", {"connectorId": 2, "transactionId": tx,
                                     "meterValue": [meter(5)]})  # fmt: skip
        assert csms.store.list_meter_values(transaction_id=tx) == []
        assert len(csms.store.list_meter_values(charger_id="CP-A", connector_id=2)) == 1
        [event] = csms.store.list_security_events(charger_id="CP-A")
        assert event["type"] == FOREIGN_TRANSACTION
    finally:
        await a.close()


async def test_unknown_transaction_id_collects_nothing_for_the_next_transaction(csms):
    """Ids are sequential: values for an id not allocated yet must not land on whoever gets it."""
    a, b = await charger(csms, "CP-A"), await charger(csms, "CP-B")
    try:
        csms.store.upsert_id_tag("TAG")
        future = 1 + max((t["id"] for t in csms.store.list_transactions()), default=0)
        await b.call("MeterValues", {"connectorId": 1, "transactionId": future,
                                     "meterValue": [meter(99999)]})  # fmt: skip
        assert await b.stop_transaction(future, 99999, transactionData=[meter(9)]) == {}
        tx = (await a.start_transaction("TAG"))["transactionId"]
        assert tx == future
        assert csms.store.list_meter_values(transaction_id=tx) == []
    finally:
        await a.close()
        await b.close()


@pytest.mark.parametrize("round_", range(3))
async def test_concurrent_starts_for_one_tag_are_accepted_once(csms, round_):
    """Two chargers send StartTransaction for the same tag at the same moment: exactly one is
    Accepted, the other ConcurrentTx, and each is stored with the status it was answered."""
    tag = f"TAG-{round_}"
    csms.store.upsert_id_tag(tag)
    chargers = [await charger(csms, cp_id) for cp_id in ("CP-A", "CP-B")]
    try:
        replies = await asyncio.gather(*(cp.start_transaction(tag) for cp in chargers))
        statuses = sorted(r["idTagInfo"]["status"] for r in replies)
        assert statuses == ["Accepted", "ConcurrentTx"]
        for reply in replies:
            stored = csms.store.get_transaction(reply["transactionId"])
            assert stored["id_tag_status"] == reply["idTagInfo"]["status"]
            expected = "Running" if stored["id_tag_status"] == "Accepted" else "NotAuthorized"
            assert stored["status"] == expected
        running = csms.store.active_transaction_for_tag(tag)
        winner = next(r for r in replies if r["idTagInfo"]["status"] == "Accepted")
        assert running["id"] == winner["transactionId"]
    finally:
        for cp in chargers:
            await cp.close()


async def test_concurrent_tx_start_never_blocks_the_tag(csms):
    """A ConcurrentTx start that the third-party charger never stops (errata v4 §3.17 says it
    should) does not hold the tag: once the accepted one stops, the tag starts again."""
    csms.store.upsert_id_tag("TAG")
    a, b = await charger(csms, "CP-A"), await charger(csms, "CP-B")
    try:
        first = await a.start_transaction("TAG")
        second = await b.start_transaction("TAG")
        assert second["idTagInfo"]["status"] == "ConcurrentTx"
        assert csms.store.get_transaction(second["transactionId"])["status"] == "NotAuthorized"
        await a.stop_transaction(first["transactionId"], 10)
        third = await a.start_transaction("TAG", connector_id=2)
        assert third["idTagInfo"]["status"] == "Accepted"
    finally:
        await a.close()
        await b.close()


async def test_start_on_a_busy_connector_closes_the_stale_transaction(csms):
    """One connector cannot run two: the transaction left open is ended at the new start,
    marked, and sent to billing review; the charger's late stop still brings its reading."""
    csms.store.upsert_id_tag("OLD")
    csms.store.upsert_id_tag("NEW")
    a = await charger(csms, "CP-A")
    try:
        old = (await a.start_transaction("OLD", timestamp="2026-01-01T10:00:00Z"))["transactionId"]
        new = await a.start_transaction("NEW", meter_start=500, timestamp="2026-01-01T11:00:00Z")
        assert new["idTagInfo"]["status"] == "Accepted"
        stale = csms.store.get_transaction(old)
        assert stale["stop_time"] == "2026-01-01T11:00:00.000000Z"
        assert stale["status"] == "BillingReview"
        review = csms.store.get_billing_retry(old)
        assert review["state"] == "Review" and "STALE" in review["reason"]
        assert csms.store.active_transaction("CP-A", 1)["id"] == new["transactionId"]
        # the late stop of the stale one records its reading; it stays in review, unbilled
        await a.stop_transaction(old, 400, timestamp="2026-01-01T10:59:00Z")
        stale = csms.store.get_transaction(old)
        assert (stale["meter_stop"], stale["status"], stale["amount"]) == (
            400, "BillingReview", None)
    finally:
        await a.close()
