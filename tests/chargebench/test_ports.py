"""chargebench.ports: a pre-chosen listening port a client can never self-connect to."""

from __future__ import annotations

import socket

from chargebench.ports import _ephemeral_range, listen_port


def test_port_is_free_and_outside_the_ephemeral_range():
    low, high = _ephemeral_range()
    ports = {listen_port() for _ in range(20)}
    assert all(not low <= port <= high for port in ports), (sorted(ports), low, high)
    assert len(ports) > 1  # picked at random, so two runs rarely clash
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_dialing_it_before_anyone_listens_never_holds_it():
    """The case behind the lost runs: a client retries while nothing listens; afterwards the
    server can still bind and listen on the port."""
    port = listen_port()
    for _ in range(300):
        with socket.socket() as client:
            assert client.connect_ex(("127.0.0.1", port)) != 0
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
