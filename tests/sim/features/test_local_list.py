"""Local authorization list, authorization cache, and their combination (1.6 §3.5, §5.4,
§5.10, §5.15)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargebench.clock import iso
from sim.v16.local_list import AuthorizationCache, LocalAuthList, LocalAuthorization
from tests.sim.features.helpers import T0, make_config, valid_reply, valid_request

LIST = {"LocalAuthListEnabled": True, "LocalAuthListMaxLength": 4, "SendLocalListMaxLength": 3}


def auth(state_dir=None, **overrides) -> LocalAuthorization:
    config = make_config(LocalAuthListManagement={**LIST, **overrides.pop("List", {})},
                         **overrides)
    return LocalAuthorization(config, state_dir=state_dir)


def entry(tag: str, status: str | None = "Accepted", **info) -> dict:
    return {"idTag": tag} if status is None else {"idTag": tag,
                                                  "idTagInfo": {"status": status, **info}}


def send(la: LocalAuthorization, version: int, update: str, *entries: dict) -> str:
    payload = {"listVersion": version, "updateType": update}
    if entries:
        payload["localAuthorizationList"] = list(entries)
    reply = la.on_send_local_list(valid_request("SendLocalList", payload))
    return valid_reply("SendLocalList", reply)["status"]


def version(la: LocalAuthorization) -> int:
    return valid_reply("GetLocalListVersion", la.on_get_local_list_version({}))["listVersion"]


class TestSendLocalList:
    def test_full_then_differential(self):
        """Full installs the list; Differential adds, updates, and deletes (no idTagInfo)."""
        la = auth()
        assert send(la, 1, "Full", entry("A"), entry("B"), entry("C", "Blocked")) == "Accepted"
        assert version(la) == 1
        assert send(la, 2, "Differential", entry("D"), entry("B", "Invalid"),
                    entry("C", None)) == "Accepted"
        assert version(la) == 2
        assert la.lookup("A", T0)["status"] == "Accepted"
        assert la.lookup("B", T0)["status"] == "Invalid"
        assert la.lookup("C", T0) is None
        assert la.lookup("d", T0)["status"] == "Accepted"  # IdToken is case-insensitive

    def test_differential_version_mismatch(self):
        """A Differential whose version is not above the current one answers VersionMismatch."""
        la = auth()
        send(la, 5, "Full", entry("A"))
        assert send(la, 5, "Differential", entry("B")) == "VersionMismatch"
        assert send(la, 4, "Differential", entry("B")) == "VersionMismatch"
        assert "B" not in la.local_list

    def test_full_replaces_and_empty_full_clears(self):
        """Full replaces the whole list; an empty Full empties it and the version reads 0."""
        la = auth()
        send(la, 1, "Full", entry("A"), entry("B"))
        send(la, 2, "Full", entry("C"))
        assert la.lookup("A", T0) is None and la.lookup("C", T0) is not None
        assert send(la, 3, "Full") == "Accepted"
        assert version(la) == 0  # §5.10: 0 means empty

    @pytest.mark.parametrize(
        ("payload", "why"),
        [
            ((1, "Full", entry("A"), entry("B"), entry("C"), entry("D")), "4 > SendLocalListMax 3"),
            ((0, "Full", entry("A")), "version 0 is reserved (errata 3.52)"),
            ((-1, "Full", entry("A")), "version -1 is reserved (errata 3.52)"),
            ((1, "Full", entry("A"), entry("a")), "duplicate idTag"),
        ],
    )
    def test_failed(self, payload, why):
        """Each unusable SendLocalList answers Failed and leaves the list alone."""
        la = auth()
        assert send(la, *payload) == "Failed", why
        assert version(la) == 0

    def test_failed_when_list_would_exceed_max_length(self):
        """A Differential growing the list past LocalAuthListMaxLength (4) answers Failed."""
        la = auth()
        send(la, 1, "Full", entry("A"), entry("B"), entry("C"))
        assert send(la, 2, "Differential", entry("D"), entry("E")) == "Failed"
        assert len(la.local_list) == 3 and version(la) == 1

    def test_not_supported_when_disabled(self):
        """LocalAuthListEnabled false: SendLocalList NotSupported, GetLocalListVersion -1."""
        la = auth(List={"LocalAuthListEnabled": False})
        assert send(la, 1, "Full", entry("A")) == "NotSupported"
        assert version(la) == -1

    def test_not_supported_without_feature_profile(self):
        """Without LocalAuthListManagement in SupportedFeatureProfiles the version is -1."""
        la = auth(Core={"SupportedFeatureProfiles": "Core"})
        assert version(la) == -1
        assert send(la, 1, "Full", entry("A")) == "NotSupported"

    def test_persisted(self, tmp_path):
        """§3.5.2: the list and its version survive a reboot."""
        la = auth(tmp_path)
        send(la, 7, "Full", entry("A", parentIdTag="GROUP"))
        again = auth(tmp_path)
        assert version(again) == 7
        assert again.parent_of("A", T0) == "GROUP"


class TestCache:
    def test_expiry(self):
        """§3.5.1: an Accepted entry past its expiryDate reads Expired and stays Expired."""
        cache = AuthorizationCache()
        cache.update("A", {"status": "Accepted", "expiryDate": iso(T0 + timedelta(hours=1))})
        assert cache.lookup("A", T0)["status"] == "Accepted"
        assert cache.lookup("A", T0 + timedelta(hours=2))["status"] == "Expired"
        assert cache.lookup("A", T0)["status"] == "Expired"

    def test_eviction_invalid_first_then_oldest(self):
        """§3.5.1: when full, NOT-valid entries go first, then the oldest valid one."""
        cache = AuthorizationCache(max_entries=3)
        cache.update("A", {"status": "Accepted"})
        cache.update("B", {"status": "Blocked"})
        cache.update("C", {"status": "Accepted"})
        cache.update("D", {"status": "Accepted"})
        assert "B" not in cache and all(t in cache for t in "ACD")
        cache.update("E", {"status": "Accepted"})
        assert "A" not in cache and "E" in cache

    def test_clear_cache_handler(self, tmp_path):
        """ClearCache empties the persisted cache; Rejected when the cache is disabled."""
        la = auth(tmp_path)
        la.remember("X", {"status": "Accepted"})
        assert valid_reply("ClearCache", la.on_clear_cache({})) == {"status": "Accepted"}
        assert la.lookup("X", T0) is None
        assert len(AuthorizationCache(state_dir=tmp_path)) == 0
        off = auth(Core={"AuthorizationCacheEnabled": False})
        assert off.on_clear_cache({}) == {"status": "Rejected"}


class TestListAndCache:
    def test_list_wins_over_cache(self):
        """§3.5.3: for the same id the local list has priority; listed ids never enter the cache."""
        la = auth()
        la.remember("A", {"status": "Accepted"})
        send(la, 1, "Full", entry("A", "Blocked"))
        assert la.lookup("A", T0)["status"] == "Blocked"
        assert la.is_accepted("A", T0) is False

    def test_conflict_reported_and_not_cached(self):
        """§3.5.2: a CSMS answer contradicting the list is a LocalListConflict, not cached."""
        seen = []
        la = auth()
        la.on_conflict = lambda tag, info: seen.append((tag, info["status"]))
        send(la, 1, "Full", entry("A"))
        assert la.remember("A", {"status": "Invalid"}) is True
        assert seen == [("A", "Invalid")]
        assert "A" not in la.cache
        assert la.remember("B", {"status": "Accepted"}) is False
        assert "B" in la.cache

    def test_disabled_list_falls_back_to_cache(self):
        """With LocalAuthListEnabled false only the cache answers."""
        la = auth(List={"LocalAuthListEnabled": False})
        la.remember("A", {"status": "Accepted", "parentIdTag": "P"})
        assert la.is_accepted("A", T0) is True
        assert la.parent_of("A", T0) == "P"
        assert la.is_accepted("Z", T0) is None

    def test_local_list_expiry(self):
        """§3.5.4: a list entry valid until yesterday is rejected as Expired."""
        la = auth()
        send(la, 1, "Full", entry("A", expiryDate=iso(T0 - timedelta(days=1))))
        assert la.lookup("A", T0)["status"] == "Expired"

    def test_unused_list_type(self):
        """LocalAuthList works standalone for callers that only need the list."""
        lst = LocalAuthList(make_config(LocalAuthListManagement=LIST))
        assert lst.update({"listVersion": 1, "updateType": "Full",
                           "localAuthorizationList": [entry("A")]}).value == "Accepted"
        assert lst.get("a") == {"status": "Accepted"}
