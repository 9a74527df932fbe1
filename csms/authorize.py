"""IdTagInfo for Authorize, StartTransaction and StopTransaction, from the store.

The decision itself is `csms.services.authorization` (sans-I/O); this only runs its store
lookups in the group-commit worker (`csms.groupcommit`) with the CSMS's protocol clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from csms.services.authorization import IdTagInfo, authorize

if TYPE_CHECKING:
    from csms.central import CentralSystem
    from csms.store import Store


async def id_tag_info(csms: CentralSystem, id_tag: str, *, for_start: bool = False) -> IdTagInfo:
    """IdTagInfo for `id_tag`; `for_start` also gives ConcurrentTx for a tag already charging
    (OCPP 1.6 §7.2: "only relevant for a StartTransaction.req")."""
    now = csms.clock.now()

    def lookup(uow: Store) -> IdTagInfo:
        active = uow.active_transaction_for_tag(id_tag) if for_start else None
        return authorize(uow, id_tag, now, active)

    return await csms.db.run(lookup)
