"""A new AuthorizationKey sent with ChangeConfiguration reaches the charger and no record
(issue 15 point 12): not the message log in the database, not logs/charger.<ID>.log, not the
database or WAL file at all; the record keeps the key name and the fact of a change."""

from __future__ import annotations

from pathlib import Path

from chargebench.redaction import REDACTED
from chargebench.trace import read_trace
from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint

NEW_KEY = "fresh-key-CP1-0123456"[:20]


async def test_authorization_key_is_redacted_in_every_record(tmp_path):
    db = tmp_path / "csms.db"
    async with CentralSystem(port=0, db=db, log_dir=tmp_path / "logs", log_flush_interval=0.05,
                             call_timeout=5) as csms:  # fmt: skip
        csms.store.upsert_charger("CP1", registration_status="Accepted")
        async with await ScriptedChargePoint.connect(csms.url("CP1"), "CP1") as cp:
            await cp.boot()
            reply = await csms.execute("CP1", "ChangeConfiguration",
                                       {"key": "AuthorizationKey", "value": NEW_KEY})  # fmt: skip
            assert reply == {"status": "Accepted"}
            action, payload = await cp.next_call()
            assert (action, payload["value"]) == ("ChangeConfiguration", NEW_KEY)  # on the wire
        await csms.trace.flush()
        rows = csms.store.query_log(cp_id="CP1", action="ChangeConfiguration", limit=None)
        [call] = [r for r in rows if r.type == "CALL"]
        assert call.payload == {"key": "AuthorizationKey", "value": REDACTED}
        records = list(read_trace(csms.trace.file_for("CP1")))
        assert {"key": "AuthorizationKey", "value": REDACTED} in [r.payload for r in records]
        assert csms.store.verify_charger_password("CP1", NEW_KEY)  # the key itself is in use
        log_text = csms.trace.file_for("CP1").read_text()
    assert NEW_KEY not in log_text
    for path in [db, Path(f"{db}-wal")]:
        if path.exists():
            assert NEW_KEY.encode() not in path.read_bytes(), path.name
