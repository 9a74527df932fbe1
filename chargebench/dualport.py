"""One listening address for ws:// and wss:// (security whitepaper §2: profiles 0/1 are plain,
2/3 TLS), so a charge point under test keeps its CentralSystemURI while its SecurityProfile is
raised (A05: the address stays, the scheme follows the profile).

`DualPort` accepts on one address (the conformance harness's `--cb-listen`, a scenario's
built-in TLS CSMS, a test's scripted CSMS), reads the first byte of each connection (0x16 opens
a TLS handshake record, RFC 8446 §5.1; an HTTP upgrade starts with "G") and relays it to
the plain or the TLS back end on 127.0.0.1. TLS ends at the back end, so the websocket server
there sees the client certificate (`chargebench.security.peer_identity`).
"""

from __future__ import annotations

import asyncio
import contextlib

TLS_HANDSHAKE = b"\x16"


class DualPort:
    """`await DualPort(host, port, plain_port, tls_port).start()`; `tls_port` None: plain only
    (a TLS attempt is closed, so the charge point sees a failed handshake)."""

    def __init__(self, host: str, port: int, plain_port: int, tls_port: int | None) -> None:
        self.host, self.requested = host, port
        self.plain_port, self.tls_port = plain_port, tls_port
        self.server: asyncio.Server | None = None
        #: connections that opened with a TLS handshake so far
        self.tls_attempts = 0
        self._relays: set[asyncio.Task] = set()

    async def start(self) -> DualPort:
        self.server = await asyncio.start_server(self._accept, self.host, self.requested)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._relay(reader, writer))
        self._relays.add(task)
        task.add_done_callback(self._relays.discard)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await reader.read(1)
        port = self.tls_port if first == TLS_HANDSHAKE else self.plain_port
        self.tls_attempts += first == TLS_HANDSHAKE
        if not first or port is None:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        up_writer.write(first)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self._relays):
            task.cancel()
        await asyncio.gather(*self._relays, return_exceptions=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
