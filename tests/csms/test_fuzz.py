"""A bounded, seeded fuzz of the CSMS over real websockets (issue 15 "Checked by"): a few
thousand frames of every bad-input class; every CALL answered per OCPP-J 1.6 §4.2.3, nothing
answered that is not a CALL, no handler traceback in the CSMS log, the fuzzing connection kept,
and the CSMS still serves a normal charger afterwards (the `ocpp` package's ChargePoint, a peer
we did not write). `CB_FUZZ_SEED` / `CB_FUZZ_FRAMES` change the run; the default is fixed."""

from __future__ import annotations

import asyncio
import json
import logging
import os

import pytest
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call
from websockets.asyncio.client import connect as ws_connect

from chargebench.ocppj.fuzz import KINDS, fuzz_frames, run_fuzz
from chargebench.trace import read_trace
from csms.central import CentralSystem

SEED = int(os.environ.get("CB_FUZZ_SEED", "15"))
FRAMES = int(os.environ.get("CB_FUZZ_FRAMES", "3000"))
#: loggers whose ERROR records (or any record with a traceback) mean a handler broke
WATCHED = ("csms", "chargebench", "websockets", "asyncio")


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in WATCHED and (
            record.levelno >= logging.ERROR or record.exc_info
        ):
            self.records.append(record)


@pytest.fixture
def errors():
    handler = Errors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


async def normal_charger_session(url: str) -> None:
    """Boot, authorize, start and stop with the `ocpp` package's charge point."""
    async with ws_connect(url, subprotocols=["ocpp1.6"], compression=None) as ws:
        cp = OcppChargePoint("CP-NORMAL", ws)
        reader = asyncio.get_running_loop().create_task(cp.start())
        try:
            boot = await cp.call(call.BootNotification(charge_point_model="M",
                                                       charge_point_vendor="V"))  # fmt: skip
            assert boot.status == "Accepted"
            auth = await cp.call(call.Authorize(id_tag="FUZZ-TAG"))
            assert auth.id_tag_info["status"] == "Accepted"
            start = await cp.call(call.StartTransaction(
                connector_id=2, id_tag="FUZZ-TAG", meter_start=0,
                timestamp="2026-01-01T01:00:00Z"))  # fmt: skip
            stop = await cp.call(call.StopTransaction(
                meter_stop=500, timestamp="2026-01-01T02:00:00Z",
                transaction_id=start.transaction_id))  # fmt: skip
            assert stop is not None
        finally:
            reader.cancel()


async def test_fuzzed_frames_are_answered_per_ocppj_and_the_csms_goes_on(tmp_path, errors):
    cases = list(fuzz_frames(seed=SEED, count=FRAMES))
    assert {case.kind for case in cases} == set(KINDS)  # every class is in the run
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=tmp_path / "logs",
                             log_flush_interval=0.05, call_timeout=5) as csms:  # fmt: skip
        csms.store.upsert_id_tag("FUZZ-TAG")
        report = await run_fuzz(csms.url("CP-FUZZ"), cases)
        print(report.summary())
        shown = "\n".join(f"{c.kind} #{c.seq} {c.text[:80]!r}: {p}" for c, p in
                          report.violations[:20])  # fmt: skip
        assert report.violations == [], f"{report.summary()}\n{shown}"
        assert report.closed_by_peer == 0
        await normal_charger_session(csms.url("CP-NORMAL"))
        await csms.trace.flush()
        # every record of the fuzzing charger is a valid UTF-8 JSON line and in the store
        records = list(read_trace(csms.trace.file_for("CP-FUZZ")))
        assert len(records) >= len(cases)
        assert csms.store.query_log(cp_id="CP-FUZZ", limit=None)
        stored = csms.store.list_transactions(charger_id="CP-NORMAL")
        assert [t["energy_wh"] for t in stored] == [500]
    tracebacks = [f"{r.name}: {r.getMessage()}" for r in errors.records]
    assert tracebacks == []
    json.dumps(report.kinds)  # the report itself is plain data
