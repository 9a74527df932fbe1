"""The transaction-related message queue of one charge point, persisted to disk.

OCPP 1.6 §3.7: StartTransaction, StopTransaction and transaction MeterValues are delivered in
chronological order, queued while offline, retried on "failure to process" (§3.7.1:
TransactionMessageAttempts times, waiting TransactionMessageRetryInterval × n before the n-th
retransmission) and then skipped. Every message goes through this queue, online or not, so order
holds by construction.

A StartTransaction gets a local (negative) transaction id at once; the queue maps it to the CSMS's
id when the StartTransaction.conf arrives and rewrites the later messages that carry it. Records
and mappings are appended to `queue.jsonl` in the state directory and flushed to the operating
system at once, so a restarted simulator, even one that was killed, loads what was not yet
delivered (§3.5.4: the queued StartTransaction is still sent). They are not fsync'd: that would
guard against this host losing power, which a simulated charger does not model, and an fsync per
meter value blocked the event loop for a third of a 200-charger day (measured with cProfile).

This module does no I/O on the network: the charge point calls `deliver(send)` with its send
function whenever it is online and booted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chargebench.ocppj import CallErrorReply, CallTimeout, ConnectionLost, InvalidReply

#: Actions that are transaction-related (1.6 §3.7; 2.0.1 E04: TransactionEvent, which names
#: its transaction by the station's own id, so nothing is rewritten in it).
TRANSACTION_ACTIONS = frozenset({"StartTransaction", "StopTransaction", "MeterValues",
                                 "TransactionEvent"})

Send = Callable[[str, dict], Awaitable[dict]]
Delivered = Callable[["QueuedMessage", dict | None], None]


@dataclass(slots=True)
class QueuedMessage:
    """One transaction-related CALL waiting for delivery."""

    seq: int
    action: str
    payload: dict
    #: Local transaction id this message belongs to (StartTransaction: the id it creates).
    local_tx: int | None = None
    attempts: int = 0
    waiter: asyncio.Future | None = field(default=None, compare=False, repr=False)


class OfflineQueue:
    """FIFO of transaction-related messages; survives restarts when given a `state_dir`."""

    FILE_NAME = "queue.jsonl"

    def __init__(
        self,
        state_dir: str | os.PathLike[str] | None = None,
        *,
        attempts: Callable[[], int] = lambda: 1,
        retry_interval: Callable[[], float] = lambda: 10,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_delivered: Delivered | None = None,
    ) -> None:
        """`attempts` / `retry_interval` read the config keys each time (ChangeConfiguration
        takes effect at once); `sleep` is the simulated clock's; `on_delivered(msg, reply)` is
        called for each message answered (reply) or skipped after its last attempt (None)."""
        self.path = Path(state_dir) / self.FILE_NAME if state_dir is not None else None
        self._attempts = attempts
        self._retry_interval = retry_interval
        self._sleep = sleep
        self.on_delivered = on_delivered
        # a list, not a deque: an empty deque is 760 bytes, and a fleet holds 10 000 queues
        # that are empty nearly always (pop(0) on a short list is a small memmove)
        self._items: list[QueuedMessage] = []
        #: local transaction id -> CSMS transaction id
        self.tx_ids: dict[int, int] = {}
        self._next_seq = 1
        self._next_local_tx = -1
        self._file: Any = None
        self._lock: asyncio.Lock | None = None
        if self.path is not None:
            self._load()

    # Producing

    def new_local_tx(self) -> int:
        """A local transaction id (negative, so it can never collide with a CSMS id)."""
        local = self._next_local_tx
        self._next_local_tx -= 1
        return local

    def put(self, action: str, payload: dict, *, local_tx: int | None = None) -> QueuedMessage:
        """Queue a transaction-related message; persisted before this returns."""
        if action not in TRANSACTION_ACTIONS:
            raise ValueError(f"{action} is not transaction-related (1.6 §3.7)")
        msg = QueuedMessage(self._next_seq, action, payload, local_tx)
        self._next_seq += 1
        self._items.append(msg)
        self._append({"seq": msg.seq, "action": action, "payload": payload, "local_tx": local_tx})
        return msg

    def waiter(self, msg: QueuedMessage) -> asyncio.Future:
        """A future resolved with the reply when `msg` is delivered, or None as soon as it is
        deferred (offline or a failed attempt): callers never block on a dead connection."""
        if msg.waiter is None:
            msg.waiter = asyncio.get_running_loop().create_future()
        return msg.waiter

    def defer_all(self) -> None:
        """Release every waiter with None (the charge point went offline)."""
        for msg in self._items:
            _settle(msg, None)

    # Consuming

    def __len__(self) -> int:
        return len(self._items)

    def pending(self) -> list[QueuedMessage]:
        """Messages not yet delivered, in delivery order."""
        return list(self._items)

    def csms_tx_id(self, local_tx: int | None) -> int | None:
        """The CSMS id of a local transaction id, once its StartTransaction was answered."""
        if local_tx is None:
            return None
        return self.tx_ids.get(local_tx, local_tx if local_tx > 0 else None)

    async def deliver(self, send: Send) -> bool:
        """Send queued messages in order until the queue is empty (True) or the connection is
        lost (False, the head stays queued). Only one delivery runs at a time."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while self._items:
                msg = self._items[0]
                payload = self._outgoing(msg)
                if payload is None:
                    self._done(msg, None)
                    continue
                try:
                    reply = await send(msg.action, payload)
                except ConnectionLost:
                    _settle(msg, None)
                    return False
                except (CallErrorReply, CallTimeout, InvalidReply):
                    # OCPP-J 1.6 §4.2.3 / §3.7.1: a failure to process the message
                    msg.attempts += 1
                    _settle(msg, None)
                    if msg.attempts < max(1, self._attempts()):
                        await self._sleep(self._retry_interval() * msg.attempts)
                        continue
                    self._done(msg, None)
                    continue
                self._done(msg, reply)
            return True

    def map_tx(self, local_tx: int, csms_tx: int) -> None:
        """Record the CSMS id of a local transaction (from its StartTransaction.conf)."""
        self.tx_ids[local_tx] = csms_tx
        self._append({"map": local_tx, "id": csms_tx})

    def close(self) -> None:
        """Flush and close the file; the queue is already on disk."""
        if self._file is not None:
            self._file.close()
            self._file = None

    # Internals

    def _outgoing(self, msg: QueuedMessage) -> dict | None:
        """The payload with the local transaction id replaced by the CSMS's."""
        if msg.action == "StartTransaction" or msg.local_tx is None:
            return msg.payload
        csms_tx = self.csms_tx_id(msg.local_tx)
        if csms_tx is None:
            # 1.6 §3.7.1: the StartTransaction was skipped; the CSMS never learnt an id
            return None
        return {**msg.payload, "transactionId": csms_tx}

    def _done(self, msg: QueuedMessage, reply: dict | None) -> None:
        del self._items[0]
        self._append({"done": msg.seq})
        if reply is not None and msg.action == "StartTransaction" and msg.local_tx is not None:
            self.map_tx(msg.local_tx, reply["transactionId"])
        _settle(msg, reply)
        if self.on_delivered is not None:
            self.on_delivered(msg, reply)
        if not self._items:
            self._compact()

    def _append(self, record: dict) -> None:
        if self.path is None:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()  # to the OS: a killed simulator loses nothing (module docstring)

    def _compact(self) -> None:
        """Empty queue: keep only the id mappings later messages might still need."""
        if self.path is None:
            return
        self.close()
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for local, csms in self.tx_ids.items():
                out.write(json.dumps({"map": local, "id": csms}) + "\n")
        tmp.replace(self.path)  # atomic: a kill leaves the old file or the new one

    def _load(self) -> None:
        assert self.path is not None
        if not self.path.exists():
            return
        by_seq: dict[int, QueuedMessage] = {}
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if "seq" in record:
                        msg = QueuedMessage(
                            record["seq"], record["action"], record["payload"], record["local_tx"]
                        )
                        by_seq[msg.seq] = msg
                    elif "done" in record:
                        by_seq.pop(record["done"], None)
                    elif "map" in record:
                        self.tx_ids[record["map"]] = record["id"]
        # a torn last line (power loss mid-write) is skipped by the suppress above
        self._items.extend(sorted(by_seq.values(), key=lambda m: m.seq))
        self._next_seq = max(by_seq, default=0) + 1
        locals_seen = [m.local_tx for m in self._items if m.local_tx is not None]
        self._next_local_tx = min([-1, *(x - 1 for x in locals_seen), *(
            k - 1 for k in self.tx_ids)])


def _settle(msg: QueuedMessage, reply: dict | None) -> None:
    if msg.waiter is not None and not msg.waiter.done():
        msg.waiter.set_result(reply)
