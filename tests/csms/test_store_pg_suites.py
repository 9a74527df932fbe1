"""Existing CSMS suites re-run on the PostgreSQL store (issue 17 point 2): the same test classes,
collected here with their `csms` / `store` fixtures opened on a throw-away PostgreSQL database
instead of a SQLite file. Nothing else differs, so a test that passes on SQLite and fails here is
a backend difference."""

from __future__ import annotations

import pytest

from csms.central import CentralSystem
from csms.store import open_store
from tests.csms import test_business_billing as billing
from tests.csms import test_server_handlers as handlers
from tests.csms.test_business_billing import (  # noqa: F401  (collected here)
    TestIdempotenceAndSafety,
    TestRetryQueue,
    TestWorkedExamples,
    test_sweep_bills_transactions_left_unbilled_by_a_crash,
)
from tests.csms.test_server_handlers import (  # noqa: F401
    TestCore,
    TestFirmwareAndSecurity,
    TestPlugAndCharge,
    cp,
    seed_handler_data,
)
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)


@pytest.fixture
async def csms(pg_url):  # noqa: F811  (the fixture)
    """The handlers suite's CSMS, on PostgreSQL."""
    async with CentralSystem(port=0, db=pg_url, log_dir=None, call_timeout=2) as central:
        seed_handler_data(central.store)
        yield central


@pytest.fixture
def store(pg_url):  # noqa: F811
    """The billing suite's store, on PostgreSQL."""
    with open_store(pg_url) as store:
        store.upsert_charger("CP001", registration_status="Accepted")
        store.set_tariff(None, "10")
        yield store


# the suites' own fixtures must stay the SQLite ones there: a rename would hide a divergence
assert handlers.csms is not csms and billing.store is not store
