"""Process plumbing shared by the benchmarks: servers and load in separate processes."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import resource
from collections.abc import Callable
from typing import Any

_spawn = mp.get_context("spawn")


def raise_fd_limit() -> None:
    """Thousands of sockets need more than the default soft limit of open files."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _run_server(start: Callable[..., Any], args: tuple, ready: Any, stop: Any) -> None:
    raise_fd_limit()

    async def main() -> None:
        port = await start(*args)
        ready.put(port)
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)

    asyncio.run(main())


class ServerProcess:
    """Runs `await start(*args) -> port` in its own process until `stop()`."""

    def __init__(self, start: Callable[..., Any], *args: Any) -> None:
        self._ready = _spawn.Queue()
        self._stop = _spawn.Event()
        self.process = _spawn.Process(
            target=_run_server, args=(start, args, self._ready, self._stop), daemon=True
        )

    def __enter__(self) -> ServerProcess:
        self.process.start()
        self.port: int = self._ready.get(timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


def run_in_process(target: Callable[..., Any], *args: Any) -> Any:
    """Call `target(*args)` in a fresh process and return its (picklable) result."""
    with _spawn.Pool(1) as pool:
        return pool.apply(target, args)
