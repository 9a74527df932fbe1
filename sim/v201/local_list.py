"""D01/D02: the Local Authorization List of a 2.0.1 station.

Changed only by SendLocalList (D01.FR.09): Full replaces it (D01.FR.15; no list: emptied,
D01.FR.04), Differential updates the entries that carry an idTokenInfo and removes those without
(D01.FR.16/17) and is refused with a version not above the current one (VersionMismatch,
D01.FR.19). Its version answers GetLocalListVersion (D02.FR.01/02; 0 while
LocalAuthListCtrlr.Enabled is false, D02.FR.03). Kept in `local_list.json` of the station's
state directory (D01.FR.10), written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.state import write_json

if TYPE_CHECKING:
    from sim.v201.station import ChargingStation

__all__ = ["LocalList", "get_local_list_version", "send_local_list"]


def _key(token: dict) -> str:
    return f"{token.get('type', '')}:{token.get('idToken', '')}"


class LocalList:
    """versionNumber and idToken -> IdTokenInfo."""

    __slots__ = ("entries", "path", "version")

    def __init__(self, state_dir: str | Path | None = None) -> None:
        self.path = Path(state_dir) / "local_list.json" if state_dir is not None else None
        self.version = 0
        self.entries: dict[str, dict] = {}
        if self.path is not None and self.path.exists():
            try:
                saved = json.loads(self.path.read_text("utf-8"))
                self.version, self.entries = int(saved["version"]), dict(saved["entries"])
            except (ValueError, KeyError, TypeError):
                self.version, self.entries = 0, {}  # a damaged file: no list, as never sent

    def status(self, token: dict) -> str | None:
        """The listed status of `token`, None when it is not on the list."""
        info = self.entries.get(_key(token))
        return None if info is None else info.get("status")

    def update(self, p: dict) -> str:
        """Apply a SendLocalListRequest; its SendLocalListResponse status."""
        version, items = p["versionNumber"], p.get("localAuthorizationList") or []
        if version <= 0:
            return "Failed"  # D01.FR.18
        if p["updateType"] == "Full":
            self.entries = {_key(item["idToken"]): dict(item["idTokenInfo"]) for item in items
                            if "idTokenInfo" in item}
        else:
            if version <= self.version:
                return "VersionMismatch"  # D01.FR.19
            for item in items:
                if "idTokenInfo" in item:
                    self.entries[_key(item["idToken"])] = dict(item["idTokenInfo"])
                else:
                    self.entries.pop(_key(item["idToken"]), None)
        self.version = version
        if self.path is not None:
            write_json(self.path, {"version": self.version, "entries": self.entries})
        return "Accepted"


def send_local_list(st: ChargingStation, p: dict) -> dict[str, Any]:
    """D01: Failed while LocalAuthListCtrlr.Enabled is false (D01.FR.13) or the request holds
    more items than ItemsPerMessage (D01.FR.11); else the list's answer."""
    s = st.settings
    if not s.bool("LocalAuthListEnabled"):
        return {"status": "Failed"}
    limit = s.int("LocalAuthListItemsPerMessage")
    if limit > 0 and len(p.get("localAuthorizationList") or []) > limit:
        return {"status": "Failed"}
    return {"status": st.local_list.update(p)}


def get_local_list_version(st: ChargingStation, _p: dict) -> dict[str, Any]:
    """D02: the list's version; 0 before any update (D02.FR.02) or while the list is
    disabled (D02.FR.03)."""
    enabled = st.settings.bool("LocalAuthListEnabled")
    return {"versionNumber": st.local_list.version if enabled else 0}
