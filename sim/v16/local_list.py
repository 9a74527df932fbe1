"""Local authorization: the Local Authorization List, the Authorization Cache, and both together.

1.6 §3.5.1 (cache), §3.5.2 (list), §3.5.3 (the list has priority, its identifiers never enter
the cache), §5.4 ClearCache, §5.10 GetLocalListVersion, §5.15 SendLocalList, errata 3.52 (list
versions 0 and -1 are reserved). Sans-I/O: `LocalAuthorization.handlers` answers the three CSMS
commands; the charge point asks `lookup(id_tag, now)` before or instead of an Authorize.req and
gives every IdTagInfo the CSMS returns to `remember(id_tag, info)`. Both stores are persisted.

`lookup` has the signature of `sim.features.auth.AuthCache.lookup`, so a `LocalAuthorization`
can stand in for the cache in `offline_decision` / `pre_authorized`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ocpp.v16.enums import AuthorizationStatus, ClearCacheStatus, UpdateStatus, UpdateType

from chargebench.clock import parse_iso
from sim.state import read_json, state_file, write_json

__all__ = ["AuthorizationCache", "LocalAuthList", "LocalAuthorization", "effective_info"]

ACCEPTED = AuthorizationStatus.accepted.value
EXPIRED = AuthorizationStatus.expired.value


def effective_info(info: dict[str, Any], now: datetime) -> dict[str, Any]:
    """IdTagInfo as it stands at `now`: Accepted past its expiryDate reads Expired (§3.5.1,
    §3.5.4: "identifiers that were valid but are apparently expired ... MUST be rejected")."""
    expiry = info.get("expiryDate")
    if expiry and info.get("status") == ACCEPTED and parse_iso(expiry) <= now:
        return {**info, "status": EXPIRED}
    return dict(info)


class LocalAuthList:
    """1.6 §3.5.2: identifiers and their IdTagInfo, changed only by SendLocalList, persisted."""

    FILE_NAME = "local_auth_list.json"

    def __init__(self, config: Any, *, state_dir: str | os.PathLike[str] | None = None) -> None:
        self.config = config
        self.path = state_file(state_dir, self.FILE_NAME)
        self.version = 0
        self._entries: dict[str, dict[str, Any]] = {}
        data = read_json(self.path, {"version": 0, "entries": {}})
        self.version = int(data["version"])
        self._entries = data["entries"]

    # Configuration (1.6 §9.2)

    @property
    def supported(self) -> bool:
        """LocalAuthListManagement in SupportedFeatureProfiles (§3.5.2)."""
        profiles = self.config.get_list("Core", "SupportedFeatureProfiles", "")
        return "LocalAuthListManagement" in profiles and self.config.has("LocalAuthListEnabled")

    @property
    def enabled(self) -> bool:
        """LocalAuthListEnabled (9.2.1): the list is used for authorization."""
        return self.supported and bool(self.config.get("LocalAuthListManagement",
                                                       "LocalAuthListEnabled", False))

    def _max_length(self) -> int | None:
        return self.config.get("LocalAuthListManagement", "LocalAuthListMaxLength", None)

    def _max_send(self) -> int | None:
        return self.config.get("LocalAuthListManagement", "SendLocalListMaxLength", None)

    # Reading

    def __contains__(self, id_tag: str) -> bool:
        return _key(id_tag) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, id_tag: str) -> dict[str, Any] | None:
        """The stored IdTagInfo (IdToken is case-insensitive, 7.28), or None."""
        entry = self._entries.get(_key(id_tag))
        return None if entry is None else dict(entry["idTagInfo"])

    def reported_version(self) -> int:
        """GetLocalListVersion.conf listVersion (§5.10): -1 unsupported/disabled, 0 empty."""
        if not self.enabled:
            return -1
        return self.version if self._entries else 0

    # SendLocalList (1.6 §5.15, §6.41)

    def update(self, payload: dict[str, Any]) -> UpdateStatus:
        """Apply a SendLocalList.req; nothing changes unless the answer is Accepted."""
        if not self.enabled:
            return UpdateStatus.not_supported
        version = payload["listVersion"]
        items = payload.get("localAuthorizationList") or []
        limit = self._max_send()
        if version <= 0 or (limit is not None and len(items) > limit):
            return UpdateStatus.failed  # errata 3.52; 9.2.3 SendLocalListMaxLength
        keys = [_key(item["idTag"]) for item in items]
        if len(set(keys)) != len(keys):
            return UpdateStatus.failed  # §6.41: idTags MUST be unique
        if payload["updateType"] == UpdateType.full:
            entries: dict[str, dict[str, Any]] = {}
        else:
            if version <= self.version:
                return UpdateStatus.version_mismatch
            entries = dict(self._entries)
        for key, item in zip(keys, items, strict=True):
            if "idTagInfo" in item:
                entries[key] = {"idTag": item["idTag"], "idTagInfo": item["idTagInfo"]}
            else:  # Differential without idTagInfo: delete (§6.41, 7.2 AuthorizationData)
                entries.pop(key, None)
        max_length = self._max_length()
        if max_length is not None and len(entries) > max_length:
            return UpdateStatus.failed  # 9.2.2 LocalAuthListMaxLength
        self._entries, self.version = entries, version
        self._save()
        return UpdateStatus.accepted

    def _save(self) -> None:
        if self.path is not None:
            write_json(self.path, {"version": self.version, "entries": self._entries})


class AuthorizationCache:
    """1.6 §3.5.1: the latest IdTagInfo of every identifier the CSMS answered for, persisted.

    Full: NOT-valid entries go first, then the oldest valid ones. Expired entries are rewritten
    as Expired when looked up.
    """

    FILE_NAME = "authorization_cache.json"

    def __init__(
        self,
        *,
        max_entries: int = 1000,
        state_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.path = state_file(state_dir, self.FILE_NAME)
        self._entries: dict[str, dict[str, Any]] = read_json(self.path, {})
        self._tick = max((e["seq"] for e in self._entries.values()), default=0)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, id_tag: str) -> bool:
        return _key(id_tag) in self._entries

    def update(self, id_tag: str, id_tag_info: dict[str, Any] | None) -> None:
        """Store what an Authorize/StartTransaction/StopTransaction.conf said."""
        if not id_tag_info:
            return
        key = _key(id_tag)
        if key not in self._entries and len(self._entries) >= self.max_entries:
            self._evict()
        self._tick += 1
        self._entries[key] = {"idTag": id_tag, "idTagInfo": dict(id_tag_info), "seq": self._tick}
        self._save()

    def lookup(self, id_tag: str, now: datetime) -> dict[str, Any] | None:
        """The cached IdTagInfo at `now` (Expired once past expiryDate), or None."""
        entry = self._entries.get(_key(id_tag))
        if entry is None:
            return None
        info = effective_info(entry["idTagInfo"], now)
        if info != entry["idTagInfo"]:
            entry["idTagInfo"] = info  # §3.5.1: "it SHALL be changed to expired in the Cache"
            self._save()
        return dict(info)

    def clear(self) -> None:
        """1.6 §5.4 ClearCache."""
        self._entries.clear()
        self._save()

    def _evict(self) -> None:
        """§3.5.1: remove NOT-valid entries; if none, the oldest valid entry."""
        invalid = [k for k, e in self._entries.items() if e["idTagInfo"].get("status") != ACCEPTED]
        if invalid:
            for key in invalid:
                del self._entries[key]
            return
        oldest = min(self._entries, key=lambda k: self._entries[k]["seq"])
        del self._entries[oldest]

    def _save(self) -> None:
        if self.path is not None:
            write_json(self.path, self._entries)


class LocalAuthorization:
    """The list and the cache as one authorization source (§3.5.3: the list wins).

    Wire `handlers`; call `lookup` to authorize locally and `remember` with every IdTagInfo
    from the CSMS. `remember` returns True on a LocalListConflict (§3.5.2): the charge point
    then sends StatusNotification(connectorId 0, errorCode LocalListConflict).
    """

    def __init__(
        self,
        config: Any,
        *,
        local_list: LocalAuthList | None = None,
        cache: AuthorizationCache | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        on_conflict: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.config = config
        self.local_list = local_list or LocalAuthList(config, state_dir=state_dir)
        self.cache = cache or AuthorizationCache(state_dir=state_dir)
        self.on_conflict = on_conflict

    @property
    def handlers(self) -> dict[str, Callable[[dict], dict]]:
        return {
            "GetLocalListVersion": self.on_get_local_list_version,
            "SendLocalList": self.on_send_local_list,
            "ClearCache": self.on_clear_cache,
        }

    @property
    def cache_enabled(self) -> bool:
        """AuthorizationCacheEnabled (9.1.2); a config without the key keeps a cache."""
        return bool(self.config.get("Core", "AuthorizationCacheEnabled", True))

    def on_get_local_list_version(self, payload: dict) -> dict:
        """GetLocalListVersion.req handler (§5.10)."""
        return {"listVersion": self.local_list.reported_version()}

    def on_send_local_list(self, payload: dict) -> dict:
        """SendLocalList.req handler (§5.15)."""
        return {"status": self.local_list.update(payload).value}

    def on_clear_cache(self, payload: dict) -> dict:
        """ClearCache.req handler (§5.4): Rejected when there is no cache to clear."""
        if not self.cache_enabled:
            return {"status": ClearCacheStatus.rejected.value}
        self.cache.clear()
        return {"status": ClearCacheStatus.accepted.value}

    def lookup(self, id_tag: str, now: datetime) -> dict[str, Any] | None:
        """IdTagInfo from the local list (if enabled), else from the cache (if enabled)."""
        if self.local_list.enabled:
            info = self.local_list.get(id_tag)
            if info is not None:
                return effective_info(info, now)
        if self.cache_enabled:
            return self.cache.lookup(id_tag, now)
        return None

    def is_accepted(self, id_tag: str, now: datetime) -> bool | None:
        """True/False when known locally, None when unknown (ask the CSMS / §3.5.4)."""
        info = self.lookup(id_tag, now)
        return None if info is None else info.get("status") == ACCEPTED

    def parent_of(self, id_tag: str, now: datetime) -> str | None:
        """parentIdTag known locally (§5.13: used to match group reservations)."""
        info = self.lookup(id_tag, now)
        return None if info is None else info.get("parentIdTag")

    def remember(self, id_tag: str, id_tag_info: dict[str, Any] | None) -> bool:
        """Take an IdTagInfo from the CSMS; True if it conflicts with the local list."""
        if not id_tag_info:
            return False
        listed = self.local_list.get(id_tag) if self.local_list.enabled else None
        if listed is not None:
            # §3.5.3: identifiers in the list SHALL NOT be added to the cache
            conflict = listed.get("status") != id_tag_info.get("status")
            if conflict and self.on_conflict is not None:
                self.on_conflict(id_tag, id_tag_info)
            return conflict
        if self.cache_enabled:
            self.cache.update(id_tag, id_tag_info)
        return False


def _key(id_tag: str) -> str:
    return id_tag.upper()  # IdToken is a CiString20 (7.28): case-insensitive
