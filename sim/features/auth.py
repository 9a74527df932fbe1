"""Authorization decisions of a charge point: offline rules and pre-authorization.

1.6 §3.5: LocalAuthorizeOffline lets local data authorize while offline, LocalPreAuthorize lets
it start without waiting for the CSMS, AllowOfflineTxForUnknownId (§3.5.4) accepts identifiers
nothing local knows while offline. "Local data" is one `sim.v16.local_list.
LocalAuthorization`: the Local Authorization List (consulted whenever LocalAuthListEnabled, even
with the cache disabled) ahead of the Authorization Cache (§3.5.3). There is no second cache.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

ACCEPTED = "Accepted"


class LocalSource(Protocol):
    """What the rules need from local authorization data (`LocalAuthorization.lookup`)."""

    def lookup(self, id_tag: str, now: datetime) -> dict[str, Any] | None: ...


def offline_decision(config: Any, local: LocalSource, id_tag: str, now: datetime) -> bool:
    """May `id_tag` start charging while offline? (1.6 §3.5, §3.5.4)"""
    info = local.lookup(id_tag, now)
    if info is not None:
        # Known identifiers that are not Accepted MUST be rejected (§3.5.4)
        return bool(config.local_authorize_offline) and info.get("status") == ACCEPTED
    return bool(config.allow_offline_tx_for_unknown_id)


def pre_authorized(config: Any, local: LocalSource, id_tag: str, now: datetime) -> bool:
    """LocalPreAuthorize (1.6 §3.5): start at once when the list or the cache says Accepted."""
    if not config.local_pre_authorize:
        return False
    info = local.lookup(id_tag, now)
    return info is not None and info.get("status") == ACCEPTED
