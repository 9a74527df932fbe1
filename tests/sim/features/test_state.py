"""sim/state.py: the one atomic JSON state-file helper every feature persists through."""

from __future__ import annotations

import os
import stat

import pytest

from sim.state import read_json, state_file, write_json, write_text


class TestStateFiles:
    def test_round_trip(self, tmp_path):
        """What write_json stored is what read_json returns, directories created on the way."""
        path = tmp_path / "deep" / "state.json"
        write_json(path, {"a": [1, 2], "b": None})
        assert read_json(path) == {"a": [1, 2], "b": None}

    def test_default_without_file_or_path(self, tmp_path):
        """A first start (no file) and a feature without state directory both get the default."""
        assert read_json(tmp_path / "missing.json", []) == []
        assert read_json(None, {"x": 1}) == {"x": 1}
        assert state_file(None, "x.json") is None
        assert state_file(tmp_path, "x.json") == tmp_path / "x.json"

    def test_failed_write_keeps_old_file(self, tmp_path, monkeypatch):
        """A crash before the rename leaves the old content and no temp file behind."""
        path = tmp_path / "state.json"
        write_json(path, {"version": 1})

        def crash(fd: int) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(os, "fsync", crash)
        with pytest.raises(OSError):
            write_json(path, {"version": 2})
        assert read_json(path) == {"version": 1}
        assert [p.name for p in tmp_path.iterdir()] == ["state.json"]

    def test_files_are_private(self, tmp_path):
        """State files are mode 0600: the certificate store keeps private keys in them."""
        path = tmp_path / "key.pem"
        write_text(path, "secret")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_corrupt_file_raises(self, tmp_path):
        """A corrupt file is an error, not a silent empty start that would lose data."""
        path = tmp_path / "state.json"
        path.write_text("{not json", "utf-8")
        with pytest.raises(ValueError):
            read_json(path, {})
