"""Which CSMS a load run or benchmark starts on 127.0.0.1, each in its own process.

The built-in CSMS (`csms.central.CentralSystem`) when it imports, else the scripted one
(`loadtest.scripted_csms`): callers print `csms_server()`'s label so a number measured against the
stand-in is never mistaken for the built-in CSMS's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from loadtest._bench import ServerProcess
from loadtest.bench_core import HOST
from loadtest.scripted_csms import start_scripted_csms


def builtin_csms_available() -> bool:
    try:
        import csms.central  # noqa: F401
    except ImportError:
        return False
    return True


async def start_builtin_csms(db: str, seed: str | None = None, heartbeat_interval: int = 300
                             ) -> int:
    """Start the reference CSMS (its store at `db`, no trace files) and return its port.

    Unknown chargers are accepted (the default policy), so load-test ids need no seed; `seed`
    (a seed YAML) adds what they do need, such as id tags. A SQLite store runs with
    synchronous=NORMAL, which its config reserves for load tests.
    """
    from csms.central import CentralSystem
    from csms.config import CsmsConfig

    config = CsmsConfig(host=HOST, port=0, db=db, seed=seed, db_synchronous="NORMAL",
                        log_dir=None, heartbeat_interval=heartbeat_interval)
    central = CentralSystem(config)
    await central.start()
    # Runs until ServerProcess ends the process; the store is WAL, so nothing is lost we need.
    return central.port


def csms_server(builtin: bool = True, workdir: str | Path | None = None,
                seed: str | Path | None = None, db: str | None = None,
                ) -> tuple[ServerProcess, str]:
    """A not-yet-started `ServerProcess` and its label ("builtin" or "scripted").

    `builtin` asks for the reference CSMS; without it, or when `csms` does not import, the
    scripted one. Its store is `db` (a path or a postgresql:// URL; default: `csms.db` in
    `workdir`, a fresh temp dir by default); `seed` is a seed YAML for it (the scripted CSMS
    accepts every id tag anyway).
    """
    if builtin and builtin_csms_available():
        if db is None:
            directory = Path(workdir or tempfile.mkdtemp(prefix="chargebench-load-"))
            db = str(directory / "csms.db")
        return ServerProcess(start_builtin_csms, db, seed and str(seed)), "builtin"
    return ServerProcess(start_scripted_csms), "scripted"
