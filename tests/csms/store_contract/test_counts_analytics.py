"""Contract: the counts behind X-Total-Count equal the lists they count, and the analytics read
models (every backend)."""

from __future__ import annotations

from decimal import Decimal

from csms.store import Store
from tests.csms.store_contract.backends import T0, T1


def test_counts_match_the_lists(store: Store) -> None:
    store.upsert_charger("CP2")
    store.upsert_connector("CP2", 1)
    a = store.start_transaction("CP1", 1, "TAG", 0, T0)
    store.start_transaction("CP2", 1, "TAG", 0, T1)
    store.stop_transaction(a, 1000, T1)
    for filters in ({}, {"charger_id": "CP1"}, {"status": "Running"}, {"since": T1},
                    {"id_tag": "nobody"}):  # fmt: skip
        listed = store.list_transactions(limit=None, **filters)  # type: ignore[arg-type]
        assert store.count_transactions(**filters) == len(listed), filters  # type: ignore[arg-type]
    store.add_meter_values("CP1", 1, [{"timestamp": T0, "sampledValue": [
        {"value": "1"}, {"value": "230", "measurand": "Voltage"}]}], transaction_id=a)  # fmt: skip
    assert store.count_meter_values(transaction_id=a) == 2
    assert store.count_meter_values(transaction_id=a, measurand="Voltage") == 1
    store.create_remote_start("CP1", 1, "TAG", T0)
    assert store.count_remote_starts(charger_id="CP1") == 1
    assert store.count_remote_starts(status="Started") == 0
    store.create_user("U1", "Asha", "RFID-1")
    store.wallet_credit("U1", Decimal("5"), reference="r1")
    assert store.count_wallet_transactions(user_id="U1", type="TOP_UP") == 1
    store.append_log([{"ts": T0, "cp_id": "CP1", "dir": "cp->cs", "type": "CALL", "id": "m1",
                       "action": "Heartbeat", "payload": {}}])  # fmt: skip
    assert store.count_log(cp_id="CP1", action="Heartbeat") == 1
    assert store.count_log(cp_id="CP2") == 0


def test_transaction_facts_and_fault_counts(store: Store) -> None:
    tx = store.start_transaction("CP1", 1, "TAG", 0, T0)
    store.stop_transaction(tx, 2500, T1)
    store.set_transaction_billing(tx, "Completed", tariff_rate=Decimal("10"),
                                  amount=Decimal("25.00"), currency="INR")  # fmt: skip
    (fact,) = store.transaction_facts()
    assert (fact["id"], fact["location_id"], fact["energy_wh"], fact["amount"]) == (
        tx, "LOC", 2500, Decimal("25.00")
    )  # fmt: skip
    assert store.transaction_facts(since=T1, until=T1) == []
    store.record_status("CP1", 1, "Faulted", error_code="GroundFailure", timestamp=T0)
    store.record_status("CP1", 1, "Available", timestamp=T1)
    (faults,) = store.fault_counts()
    assert (faults["charger_id"], faults["connector_id"], faults["faults"]) == ("CP1", 1, 1)
