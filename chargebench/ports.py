"""Loopback ports for servers whose clients may dial before the server listens.

A client that keeps dialing 127.0.0.1:P while nothing listens there can connect to *itself*:
when the kernel picks P as the client's own ephemeral source port, TCP simultaneous open joins
the socket to itself, and that socket then holds P, so the server's later bind fails with
"address already in use". A port picked by binding port 0 comes from that same ephemeral range,
which is how `conform --role cp --self` (the simulator dials the harness that listens only once
pytest starts) lost whole runs. Ports below the ephemeral range are never handed out as source
ports, so a client can never self-connect to them.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10000  # well above the registered service ports a developer machine runs


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in _RANGE.read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default; other systems only lose the guarantee


def listen_port(host: str = "127.0.0.1", attempts: int = 200) -> int:
    """A port that is free on `host` now and lies outside the ephemeral range.

    Free *now*: another process may still take it before the caller binds, as with any
    pre-chosen port; the random pick over ~20k ports makes two callers' clash unlikely."""
    low, high = _ephemeral_range()
    candidates = [(_LOWEST, low - 1)] if low - 1 > _LOWEST else []
    if high < 65535:
        candidates.append((high + 1, 65535))
    for _ in range(attempts if candidates else 0):
        first, last = random.choice(candidates)
        port = random.randint(first, last)
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # no port outside the range: the old way, without the guarantee
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
