"""The HTTP API suite (tests/csms/test_server_api.py) re-run on the PostgreSQL store: the same
tests, collected here with the `csms` fixture opened on a throw-away PostgreSQL database."""

from __future__ import annotations

import pytest

from csms.central import CentralSystem
from tests.csms.test_server_api import (  # noqa: F401  (collected here; fixtures)
    TOKEN,
    api,
    cp,
    test_a_large_request_is_not_echoed_in_a_header,
    test_action_errors,
    test_action_returns_charger_reply,
    test_action_timeout_is_504,
    test_cancel_of_an_unknown_reservation_is_relayed,
    test_every_list_sends_x_total_count,
    test_list_and_log,
    test_reserve_now_keeps_the_callers_reservation_id,
    test_reserve_now_reports_allocated_id,
    test_token_required,
    test_unknown_routes_and_methods,
)
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)


@pytest.fixture
async def csms(pg_url):  # noqa: F811  (the fixture)
    async with CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=pg_url,
                             log_dir=None, call_timeout=2) as central:  # fmt: skip
        central.store.upsert_charger("CP1", registration_status="Accepted")
        central.store.upsert_charger("CP2", registration_status="Accepted")
        yield central
