"""An asyncio loop on a thread, for peers that run next to a blocking pytest run
(`chargebench conform --self`, and the suite's own tests)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any


class BackgroundLoop:
    """`with BackgroundLoop() as bg: bg.run(coro)`; leaving cancels what is still running."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name="cb-background", daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def __enter__(self) -> BackgroundLoop:
        self._thread.start()
        return self

    def submit(self, coroutine: Coroutine) -> Future:
        """Schedule `coroutine` on the background loop (thread-safe)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine, timeout: float | None = 30) -> Any:
        """Run `coroutine` there and wait for its result here."""
        return self.submit(coroutine).result(timeout)

    def __exit__(self, *exc: object) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
