"""The charge point's state files: one atomic write, one tolerant read.

Everything a simulated charge point must keep across a crash or reboot (charging profiles,
local list, reservations, certificates, queued security events...) is a small file in its state
directory. A crash while writing must leave the old file or the new one, never half of one, so
every feature writes through `write_text` / `write_json` here: temp file in the same directory,
fsync, `os.replace`. Temp files are created mode 0600 (`mkstemp`), which also keeps private keys
in the certificate store unreadable by other users.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["read_json", "state_file", "write_json", "write_text"]

StrPath = str | os.PathLike[str]


def state_file(state_dir: StrPath | None, name: str) -> Path | None:
    """`state_dir/name`, or None when the feature runs without persistence (state_dir None)."""
    return Path(state_dir) / name if state_dir is not None else None


def write_text(path: StrPath, text: str) -> None:
    """Replace `path` with `text` atomically and durably (data fsync'd before the rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: StrPath, data: Any) -> None:
    """`write_text` of compact JSON: a crash leaves the old or the new file."""
    write_text(path, json.dumps(data, separators=(",", ":")))


def read_json(path: StrPath | None, default: Any = None) -> Any:
    """The JSON in `path`, or `default` when there is no path or no file yet (first start).

    A corrupt file raises (json.JSONDecodeError): with atomic writes it means someone else
    wrote it, and silently starting empty would lose data the CSMS was told is stored.
    """
    if path is None:
        return default
    try:
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        return default
    return json.loads(text)
