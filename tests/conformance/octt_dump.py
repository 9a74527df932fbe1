"""A pytest plugin (`-p tests.conformance.octt_dump`) writing the collected cases to the JSON file
named by $CB_OCTT_DUMP: [case id, roles, node id] per item, for the catalogue consistency test."""

from __future__ import annotations

import json
import os

import pytest

from conformance.plugin import item_case_id, item_roles


def pytest_collection_finish(session: pytest.Session) -> None:
    rows = [[item_case_id(item), list(item_roles(item)), item.nodeid] for item in session.items]
    with open(os.environ["CB_OCTT_DUMP"], "w", encoding="utf-8") as out:
        json.dump(rows, out)
