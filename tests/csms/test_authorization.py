"""The IdTagInfo decision: every AuthorizationStatus, expiry, parent groups, ConcurrentTx."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from csms.services.authorization import authorize, decide
from csms.store import Store, open_store

NOW = datetime(2025, 1, 17, 10, 0, tzinfo=UTC)
PAST = "2024-12-31T00:00:00.000000Z"
FUTURE = "2030-01-01T00:00:00.000000Z"
SOON = "2026-01-01T00:00:00.000000Z"

# The reply must be valid OCPP 1.6 (optional fields absent, never null): check with its schema.
_SCHEMA = json.loads(
    resources.files("ocpp.v16").joinpath("schemas/AuthorizeResponse.json").read_text("utf-8")
)


def tag(id_tag: str = "T1", status: str = "Accepted", expiry=None, parent=None) -> dict:
    return {"id_tag": id_tag, "status": status, "expiry_date": expiry, "parent_id_tag": parent}


def checked(info: dict) -> dict:
    jsonschema.validate({"idTagInfo": info}, _SCHEMA)
    return info


class TestOwnStatus:
    def test_unknown_tag_is_invalid(self) -> None:
        """An unknown idTag gets Invalid and nothing else."""
        assert checked(authorize(None, "NOPE", NOW)) == {"status": "Invalid"}

    def test_accepted_with_expiry_and_parent(self) -> None:
        """An accepted tag reports its expiryDate and parentIdTag."""
        info = checked(authorize(tag(expiry=FUTURE, parent="G"), "T1", NOW))
        assert info == {"status": "Accepted", "expiryDate": FUTURE, "parentIdTag": "G"}

    def test_accepted_without_optional_fields(self) -> None:
        """Without expiry or parent, the optional fields are absent (not null)."""
        assert checked(authorize(tag(), "T1", NOW)) == {"status": "Accepted"}

    @pytest.mark.parametrize("status", ["Blocked", "Expired", "Invalid"])
    def test_stored_refusals_are_returned(self, status: str) -> None:
        """A stored Blocked / Expired / Invalid status is the answer."""
        assert checked(authorize(tag(status=status), "T1", NOW))["status"] == status

    def test_accepted_past_expiry_is_expired(self) -> None:
        """An Accepted tag whose expiry date has passed is Expired."""
        assert checked(authorize(tag(expiry=PAST), "T1", NOW)) == {
            "status": "Expired",
            "expiryDate": PAST,
        }

    def test_expiry_boundary(self) -> None:
        """Expiring exactly now counts as expired; one microsecond later does not."""
        assert decide(tag(expiry="2025-01-17T10:00:00Z"), NOW)["status"] == "Expired"
        assert decide(tag(expiry="2025-01-17T10:00:00.000001Z"), NOW)["status"] == "Accepted"

    def test_naive_now_is_utc(self) -> None:
        """A naive `now` is read as UTC rather than crashing the comparison."""
        assert decide(tag(expiry=FUTURE), datetime(2025, 1, 1))["status"] == "Accepted"

    def test_record_for_another_tag_is_a_caller_bug(self) -> None:
        """Passing the record of a different tag raises instead of answering wrongly."""
        with pytest.raises(ValueError):
            authorize(tag("OTHER"), "T1", NOW)


class TestConcurrentTx:
    def test_running_transaction_gives_concurrent_tx(self) -> None:
        """An accepted tag already in a transaction gets ConcurrentTx (StartTransaction)."""
        running = {"id": 7, "id_tag": "T1"}
        assert checked(authorize(tag(), "T1", NOW, running))["status"] == "ConcurrentTx"

    def test_allowed_concurrency(self) -> None:
        """With concurrent transactions allowed, the tag stays Accepted."""
        assert authorize(tag(), "T1", NOW, True, allow_concurrent=True)["status"] == "Accepted"

    def test_refusal_wins_over_concurrency(self) -> None:
        """A blocked tag in a transaction is reported Blocked, not ConcurrentTx."""
        assert authorize(tag(status="Blocked"), "T1", NOW, True)["status"] == "Blocked"

    def test_no_transaction_no_concurrency(self) -> None:
        """Without a running transaction (Authorize, StopTransaction) there is no ConcurrentTx."""
        assert authorize(tag(), "T1", NOW, None)["status"] == "Accepted"


class TestParentGroups:
    @pytest.mark.parametrize(
        ("parent", "expected"),
        [
            (tag("G"), "Accepted"),
            (tag("G", status="Blocked"), "Blocked"),
            (tag("G", status="Expired"), "Expired"),
            (tag("G", expiry=PAST), "Expired"),
            (tag("G", status="Invalid"), "Invalid"),
            (None, "Accepted"),  # a group id the CSMS does not hold as a tag: no constraint
        ],
    )
    def test_member_inherits_group_refusal(self, parent: dict | None, expected: str) -> None:
        """A member of a blocked / expired / invalid group is refused like the group."""
        info = checked(authorize(tag(parent="G"), "T1", NOW, parent=parent))
        assert (info["status"], info["parentIdTag"]) == (expected, "G")

    def test_own_blocked_beats_group_expired(self) -> None:
        """When tag and group disagree, the stronger refusal (Blocked) is reported."""
        parent = tag("G", status="Expired")
        assert decide(tag(status="Blocked", parent="G"), NOW, parent=parent)["status"] == "Blocked"

    def test_expiry_is_the_earlier_of_tag_and_group(self) -> None:
        """The reported expiryDate is the earlier of the tag's and its group's."""
        info = decide(tag(expiry=FUTURE, parent="G"), NOW, parent=tag("G", expiry=SOON))
        assert info["expiryDate"] == SOON


class TestFromStore:
    @pytest.fixture
    def store(self, tmp_path: Path):
        with open_store(tmp_path / "csms.db") as s:
            s.upsert_charger("CP1")
            s.upsert_id_tag("GROUP", status="Blocked")
            s.upsert_id_tag("MEMBER", parent_id_tag="GROUP")
            s.upsert_id_tag("SOLO", expiry_date=FUTURE)
            yield s

    def test_store_lookup_includes_parent(self, store: Store) -> None:
        """Given a store, the tag and its parent group are looked up."""
        assert authorize(store, "MEMBER", NOW) == {"status": "Blocked", "parentIdTag": "GROUP"}
        assert authorize(store, "SOLO", NOW) == {"status": "Accepted", "expiryDate": FUTURE}
        assert authorize(store, "UNKNOWN", NOW) == {"status": "Invalid"}

    def test_store_with_running_transaction(self, store: Store) -> None:
        """The caller passes the store's running transaction to get ConcurrentTx."""
        store.start_transaction("CP1", 1, "SOLO", 0, NOW)
        running = store.active_transaction_for_tag("SOLO")
        assert authorize(store, "SOLO", NOW, running)["status"] == "ConcurrentTx"
        assert authorize(store, "SOLO", NOW)["status"] == "Accepted"
