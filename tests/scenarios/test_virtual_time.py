"""VirtualTimeLoop: time advances by events, real sockets still work, outside work is waited for.

These run on the loop itself (not through a scenario), so each property is seen on its own: a
jump when everything waits, no jump over a thread still working or a socket with data, a
`Clock` that follows the loop.
"""

from __future__ import annotations

import asyncio
import threading
import time

from chargebench.clock import Clock, VirtualTimeLoop, loop_clock, watch_outside_work
from scenarios.runner import run_virtual


def test_an_hour_of_sleeping_takes_no_wall_time():
    """Every task waits: time jumps to each next timer; timers still fire in order."""

    async def main() -> tuple[list[str], float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        order: list[str] = []

        async def sleeper(name: str, seconds: float) -> None:
            await asyncio.sleep(seconds)
            order.append(name)

        await asyncio.gather(sleeper("hour", 3600), sleeper("minute", 60), sleeper("day", 86400))
        return order, loop.time() - start

    started = time.monotonic()
    order, elapsed = run_virtual(main)
    assert order == ["minute", "hour", "day"]
    assert elapsed == 86400
    assert time.monotonic() - started < 5  # generous for 2 loaded cores; it is milliseconds


def test_time_stands_still_while_a_thread_works():
    """A timer due in 10 ms does not fire before a 300 ms thread ends: the loop waits for it
    in real time and virtual time does not move meanwhile (a slow commit costs no sim time)."""

    async def main() -> tuple[list[str], float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        order: list[str] = []

        async def timer() -> None:
            await asyncio.sleep(0.01)
            order.append("timer")

        async def thread() -> None:
            await asyncio.to_thread(time.sleep, 0.3)
            order.append(f"thread at +{loop.time() - start:g}")

        await asyncio.gather(timer(), thread())
        return order, loop.time() - start

    order, elapsed = run_virtual(main)
    assert order == ["thread at +0", "timer"]
    assert abs(elapsed - 0.01) < 1e-9


def test_watched_future_from_another_thread_holds_time():
    """A future completed by a thread of our own (the CSMS's group commit) holds time too."""

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        watch_outside_work(future)
        order: list[str] = []

        def work() -> None:
            time.sleep(0.2)
            loop.call_soon_threadsafe(future.set_result, "commit")

        threading.Thread(target=work, daemon=True).start()

        async def timer() -> None:
            await asyncio.sleep(5)
            order.append("timer")

        async def waiter() -> None:
            order.append(await future)

        await asyncio.gather(timer(), waiter())
        return order

    assert run_virtual(main) == ["commit", "timer"]


def test_real_sockets_and_timeouts_on_virtual_time():
    """A TCP echo on 127.0.0.1 works; a reply that never comes times out in virtual time."""

    async def main() -> tuple[bytes, bool, float]:
        loop = asyncio.get_running_loop()

        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            line = await reader.readline()
            if line != b"silence\n":
                writer.write(line)
                await writer.drain()
            await reader.read()  # until the client closes
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"hello\n")
            answer = await asyncio.wait_for(reader.readline(), 30)
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"silence\n")
            started = loop.time()
            try:
                await asyncio.wait_for(reader.readline(), 30)
                timed_out = False
            except TimeoutError:
                timed_out = True
            waited = loop.time() - started
            writer.close()
        return answer, timed_out, waited

    answer, timed_out, waited = run_virtual(main)
    assert answer == b"hello\n"
    assert timed_out and 30 <= waited < 30.01


def test_loop_clock_follows_the_loop():
    """`loop_clock(speed)` on a virtual loop: simulated time = loop time x speed, exactly."""

    async def main() -> tuple[float, float]:
        clock = loop_clock(600)
        await clock.sleep(3600)  # six loop seconds
        return clock.monotonic(), asyncio.get_running_loop().time()

    simulated, _ = run_virtual(main)
    assert 3600 <= simulated < 3600.001


def test_clock_on_an_ordinary_loop_is_the_wall_clock():
    async def main() -> bool:
        return type(loop_clock(10)) is Clock and not isinstance(
            asyncio.get_running_loop(), VirtualTimeLoop)

    assert asyncio.run(main())
