"""The trigger hook: making the CSMS under test send a CSMS-initiated CALL.

OCTT asks the CSMS operator to "start a transaction remotely"; a case here says
`await trigger.send("RemoteStartTransaction", {"connectorId": 1, "idTag": ...})` and then waits for
the CALL on the wire. The built-in CSMS is driven through its HTTP actions API
(`POST {base}/api/chargers/{id}/actions/{Action}`, `--cb-trigger-url`); another CSMS through a
`pytest_cb_trigger` hook in a conftest.py. Without a trigger such cases are skipped.

A trigger may keep `problems` (a list of strings): what went wrong asking the CSMS (an HTTP error
of the actions API). `conformance.chargepoint` adds them to a verdict when the CALL never came.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Protocol
from urllib.parse import quote

import pytest


class Trigger(Protocol):
    async def send(self, cp_id: str, action: str, payload: dict) -> None:
        """Ask the CSMS to send `action` with `payload` to charge point `cp_id` (do not wait
        for the charge point's reply: the harness is the charge point and answers it)."""


class NoTrigger:
    async def send(self, cp_id: str, action: str, payload: dict) -> None:
        pytest.skip(f"needs the CSMS to send {action}: give --cb-trigger-url or a "
                    "pytest_cb_trigger hook")


class HttpActionsTrigger:
    """The built-in CSMS's HTTP actions API; the request runs in a thread because the API
    answers only after the charge point (the harness, on this loop) has replied."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.pending: set[asyncio.Task] = set()
        self.problems: list[str] = []

    async def send(self, cp_id: str, action: str, payload: dict) -> None:
        url = f"{self.base_url}/api/chargers/{quote(cp_id, safe='')}/actions/{action}"
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            url, data=json.dumps(payload).encode(), headers=headers, method="POST"
        )
        task = asyncio.ensure_future(asyncio.to_thread(_post, request))
        self.pending.add(task)
        task.add_done_callback(lambda done: self._done(action, done))

    def _done(self, action: str, task: asyncio.Task) -> None:
        self.pending.discard(task)
        if task.cancelled():
            return
        error = task.exception() or task.result()
        if error:
            self.problems.append(f"the actions API refused {action}: {error}")


#: What fixes an HTTP refusal of the actions API, by status
_HINTS = {
    401: " (give the API's token with --admin-token or $CHARGEBENCH_ADMIN_TOKEN)",
    403: " (the token given with --admin-token may not trigger commands)",
    404: " (check --cb-trigger-url and --cb-cp-id)",
}


def _post(request: urllib.request.Request) -> str | None:
    """None when the API answered 2xx, else what it said."""
    try:
        with urllib.request.urlopen(request, timeout=60):
            return None
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace")[:300]
        hint = _HINTS.get(error.code, "")
        return f"HTTP {error.code} {body}{hint}"
    except OSError as error:
        return f"{type(error).__name__}: {error}"
