"""The default CSMS store: one SQLite file, WAL, every write committed (fsynced) before return.

    store = SqliteStore("csms.db")          # creates the schema on first open
    store.mark_all_offline()                # at startup: online flags of a killed run are stale
    tx_id = store.start_transaction("CP001", 1, "TAG-1", 0, now)   # committed: safe to reply

Pass `synchronous="NORMAL"` only where losing the last commits on power loss is acceptable
(load tests); the default FULL is what "acknowledged means on disk" needs.
"""

from __future__ import annotations

from csms.store._sqlite_assets import AssetsMixin
from csms.store._sqlite_billing import BillingMixin
from csms.store._sqlite_counts import CountsMixin
from csms.store._sqlite_ops import OpsMixin
from csms.store._sqlite_sessions import SessionsMixin
from csms.store._sqlite_station_reports import StationReportsMixin
from csms.store._sqlite_stations import StationsMixin

__all__ = ["SqliteStore"]


class SqliteStore(
    AssetsMixin, SessionsMixin, StationsMixin, StationReportsMixin, OpsMixin, BillingMixin,
    CountsMixin,
):
    """SQLite implementation of `csms.store.base.Store` (see that module for the contract)."""
