"""The transaction-integrity suite (tests/csms/test_transaction_integrity.py: real chargers over
real websockets, concurrent starts for one tag, stale transactions) re-run on PostgreSQL."""

from __future__ import annotations

import pytest

from csms.central import CentralSystem
from tests.csms.test_transaction_integrity import (  # noqa: F401  (collected here)
    test_concurrent_starts_for_one_tag_are_accepted_once,
    test_concurrent_tx_start_never_blocks_the_tag,
    test_foreign_stop_and_meter_values_are_refused_and_the_victim_is_billed_right,
    test_meter_values_on_another_connector_are_not_attached,
    test_start_on_a_busy_connector_closes_the_stale_transaction,
    test_unknown_transaction_id_collects_nothing_for_the_next_transaction,
)
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)


@pytest.fixture
async def csms(pg_url):  # noqa: F811  (the fixture)
    async with CentralSystem(port=0, db=pg_url, log_dir=None,
                             call_timeout=5) as central:  # fmt: skip
        store = central.store
        for cp_id in ("CP-A", "CP-B"):
            store.upsert_charger(cp_id, registration_status="Accepted")
        store.set_tariff(None, "10")
        yield central
