"""States of part 6 the B, C, E and H cases with a Charging Station under test share: the
connection lost and regained ("The OCTT closes the WebSocket connection AND does not accept
a reconnect" ... "accepts the reconnection attempt"), what the station queued meanwhile, and
Memory State TransactionEventsInQueueEnded (Table 441).

Offline is the operator's to make (its `go_offline` / `go_online`: a network cut at the
station, as the 1.6 cases do): the station under test cannot tell it from the OCTT refusing
its reconnects, and the time offline stays bounded by the case.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from chargebench.clock import parse_iso
from conformance.casesteps import step
from conformance.expect import Mismatch
from conformance.v201.states import Cs

__all__ = ["QueuedEvents", "go_offline", "go_online", "station_sleep",
           "transaction_events_in_queue_ended"]


async def station_sleep(cs: Cs, seconds: float, *, limit: float = 30.0) -> None:
    """Wait until `seconds` passed on the station's clock (the operator hook's `now()`: a
    simulator may run fast), at most `limit` wall seconds."""
    start = parse_iso(cs.time())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while (parse_iso(cs.time()) - start).total_seconds() < seconds:
        if loop.time() > deadline:
            return
        await asyncio.sleep(0.05)


async def go_offline(cs: Cs) -> datetime:
    """The connection is lost and no reconnect accepted: the operator cuts the station's
    network; returns when the connection closed, with the station's time then."""
    await cs.act("go_offline")
    with step("the connection closes"):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + cs.settings.timeout
        while not cs.peer.closed:
            if loop.time() > deadline:
                raise Mismatch("the station's connection did not close when it went offline")
            await asyncio.sleep(0.05)
    return parse_iso(cs.time())


async def go_online(cs: Cs) -> datetime:
    """The reconnection is accepted: the operator restores the network and the station
    connects again; returns the station's time when it was let back."""
    back = parse_iso(cs.time())
    await cs.act("go_online")
    with step("the station reconnects"):
        await cs.reconnected()
    return back


class QueuedEvents:
    """The TransactionEventRequests the station sends once back online (E12: it empties its
    queue), told from live ones by their timestamp: earlier than the moment it was let back
    online means generated while offline."""

    def __init__(self, cs: Cs, back: datetime) -> None:
        self.cs, self.back = cs, back
        self.events: list[dict] = []

    async def collect(self, *, quiet: float = 1.0, patience: float | None = None
                      ) -> list[dict]:
        """The TransactionEventRequests the station sent on its new connection, until a live
        one (timestamped after it was let back) comes or `quiet` seconds pass without a new
        one; bounded by twice the case's timeout. The queued ones: those timestamped
        earlier. `patience`: how long to wait for the first (default the case's timeout;
        shorter where the station may have nothing to send)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2 * self.cs.settings.timeout
        last_count, last_change = -1, loop.time()
        with step("the station empties its queue"):
            while loop.time() < deadline:
                events = [f.payload or {} for f in self.cs.peer.log
                          if f.dir == self.cs.peer.incoming_dir and f.type == "CALL"
                          and f.action == "TransactionEvent"]
                if len(events) != last_count:
                    last_count, last_change = len(events), loop.time()
                if events and parse_iso(events[-1]["timestamp"]) > self.back:
                    break
                first = self.cs.settings.timeout if patience is None else patience
                if loop.time() - last_change > max(quiet, 0 if events else first):
                    break
                await asyncio.sleep(0.05)
        self.events = [e for e in events if parse_iso(e["timestamp"]) <= self.back]
        return self.events

    def check(self, *, types: tuple[str, ...] = (), every: dict | None = None) -> None:
        """Part 6's "All messages: offline must be true" (E04.FR.03 / E12.FR.??) and "One of
        the messages: eventType X" for each of `types`; `every` further fields of each."""
        with step("the queued TransactionEventRequests: offline true"
                  + "".join(f", one {t}" for t in types)):
            if not self.events:
                raise Mismatch("no TransactionEventRequest generated while offline was sent "
                               "after the reconnection", "queued TransactionEventRequests",
                               self.cs.frames("TransactionEvent"))
            for event in self.events:
                if event.get("offline") is not True:
                    raise Mismatch(f"TransactionEventRequest seqNo {event.get('seqNo')} of "
                                   f"{event.get('timestamp')} (while offline) has offline "
                                   f"{event.get('offline', 'omitted')}: it must be true",
                                   "offline true", self.cs.frames("TransactionEvent"))
                for key, value in (every or {}).items():
                    if value is _PRESENT and key not in event:
                        raise Mismatch(f"queued TransactionEventRequest seqNo "
                                       f"{event.get('seqNo')} has no {key}", f"{key} present",
                                       self.cs.frames("TransactionEvent"))
                    if value is not _PRESENT and event.get(key) != value:
                        raise Mismatch(f"queued TransactionEventRequest seqNo "
                                       f"{event.get('seqNo')}: {key} {event.get(key)!r}, "
                                       f"expected {value!r}", f"{key} {value}",
                                       self.cs.frames("TransactionEvent"))
            kinds = [e.get("eventType") for e in self.events]
            for kind in types:
                if kind not in kinds:
                    raise Mismatch(f"the queued TransactionEventRequests are {kinds}: none "
                                   f"with eventType {kind}", f"eventType {kind}",
                                   self.cs.frames("TransactionEvent"))


#: `QueuedEvents.check(every=...)`: the field must be there
_PRESENT = object()
PRESENT = _PRESENT


async def offline_authorization(cs: Cs) -> bool:
    """Memory State TransactionEventsInQueueEnded's preparations: OfflineTxForUnknownIdEnabled
    true (If implemented), the valid idToken cached and on the local list (If implemented).
    False when the station has no way to authorize it offline."""
    from conformance.v201.states import id_token_cached, id_token_local_auth_list

    unknown = await cs.configure("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true")
    cached = listed = False
    if cs.model.has("AuthCacheCtrlr") and not cs.model.unavailable("AuthCacheCtrlr"):
        await cs.configure("AuthCacheCtrlr", "Enabled", "true")
        await id_token_cached(cs)
        cached = True
    if cs.model.has("LocalAuthListCtrlr") and not cs.model.unavailable("LocalAuthListCtrlr"):
        await cs.configure("LocalAuthListCtrlr", "Enabled", "true")
        await id_token_local_auth_list(cs)
        listed = True
    offline_ok = cs.flag("AuthCtrlr", "LocalAuthorizeOffline") or not cs.model.has(
        "AuthCtrlr", "LocalAuthorizeOffline")
    return unknown or ((cached or listed) and offline_ok)


async def transaction_events_in_queue_ended(cs: Cs) -> datetime:
    """Memory State TransactionEventsInQueueEnded (Table 441): offline, a whole session
    (connect, present the idToken, present it again, disconnect), back online. Returns the
    station's time when it was let back (`QueuedEvents`)."""
    with step("Memory State TransactionEventsInQueueEnded"):
        await go_offline(cs)
        await cs.act("plug_in", connector=cs.connector_id)
        await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
        await station_sleep(cs, 2.0, limit=2.0)
        await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
        await cs.act("plug_out", connector=cs.connector_id)
        return await go_online(cs)
