"""Authorization decisions of a charge point: online Authorize, offline and pre-authorization.

1.6 §3.5: LocalAuthorizeOffline lets the Authorization Cache authorize while offline,
LocalPreAuthorize lets it start without waiting for the CSMS, AllowOfflineTxForUnknownId
(§3.5.4) accepts identifiers the cache does not know while offline. The local authorization
list (LocalAuthListManagement) plugs in here later and takes priority over the cache (§3.5.3).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from chargebench.clock import parse_iso

ACCEPTED = "Accepted"


class AuthCache:
    """1.6 §3.5.1 Authorization Cache: the latest IdTagInfo per identifier, persisted."""

    FILE_NAME = "auth_cache.json"

    def __init__(self, state_dir: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(state_dir) / self.FILE_NAME if state_dir is not None else None
        self._entries: dict[str, dict] = {}
        if self.path is not None and self.path.exists():
            self._entries = json.loads(self.path.read_text("utf-8"))

    def update(self, id_tag: str, id_tag_info: dict | None) -> None:
        """Store what the CSMS said in an Authorize/StartTransaction/StopTransaction.conf."""
        if not id_tag_info:
            return
        self._entries[id_tag] = id_tag_info
        self._save()

    def lookup(self, id_tag: str, now: datetime) -> dict | None:
        """The cached IdTagInfo, with status Expired once its expiryDate has passed."""
        info = self._entries.get(id_tag)
        if info is None:
            return None
        expiry = info.get("expiryDate")
        if expiry and parse_iso(expiry) <= now and info.get("status") == ACCEPTED:
            return {**info, "status": "Expired"}
        return info

    def clear(self) -> None:
        """1.6 §5.4 ClearCache."""
        self._entries.clear()
        self._save()

    def __len__(self) -> int:
        return len(self._entries)

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._entries), "utf-8")
        tmp.replace(self.path)


def cache_enabled(config) -> bool:
    """AuthorizationCacheEnabled (1.6 §9.1.2); a config without the key keeps a cache."""
    value = config.authorization_cache_enabled
    return True if value is None else bool(value)


def offline_decision(config, cache: AuthCache, id_tag: str, now: datetime) -> bool:
    """May `id_tag` start charging while offline? (1.6 §3.5, §3.5.4)"""
    info = cache.lookup(id_tag, now) if cache_enabled(config) else None
    if info is not None:
        # Known identifiers that are not Accepted MUST be rejected (§3.5.4)
        return bool(config.local_authorize_offline) and info.get("status") == ACCEPTED
    return bool(config.allow_offline_tx_for_unknown_id)


def pre_authorized(config, cache: AuthCache, id_tag: str, now: datetime) -> bool:
    """LocalPreAuthorize (1.6 §3.5): start at once when the cache says Accepted."""
    if not config.local_pre_authorize or not cache_enabled(config):
        return False
    info = cache.lookup(id_tag, now)
    return info is not None and info.get("status") == ACCEPTED
