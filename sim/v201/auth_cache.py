"""C10-C12: the Authorization Cache of a 2.0.1 station (sans-I/O).

Every IdTokenInfo the CSMS sends is kept, whatever its status (C10.FR.01), from an
AuthorizeResponse (C10.FR.04) and a TransactionEventResponse (C10.FR.05); an entry lives until
its cacheExpiryDateTime (C10.FR.13) or AuthCacheCtrlr.LifeTime seconds (C10.FR.08) and is
then gone (C10.FR.10); a full cache drops its oldest entry (C10.FR.07). A token cached Accepted
is authorized without an Authorize (C12.FR.02, AuthCtrlr.LocalPreAuthorize) and offline
(C13, AuthCtrlr.LocalAuthorizeOffline); any other status is asked again online (C10.FR.03).
Held in memory: a restart empties it (C10.FR.02 is a SHOULD).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chargebench.clock import parse_iso

__all__ = ["AuthCache"]

#: entries kept at most (C10.FR.07: the oldest goes)
MAX_ENTRIES = 1000


@dataclass(frozen=True, slots=True)
class _Entry:
    info: dict
    expires: datetime | None


def _key(token: dict) -> tuple[str, str]:
    return token.get("type", ""), token.get("idToken", "")


class AuthCache:
    """idToken -> its last IdTokenInfo, with expiry."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}

    def remember(self, token: dict, info: dict, now: datetime, lifetime_s: int) -> None:
        """Keep `info` for `token` (C10.FR.01/04/05); `lifetime_s` 0: until its own expiry."""
        expiry = info.get("cacheExpiryDateTime")
        if expiry is not None:
            expires: datetime | None = parse_iso(expiry)  # C10.FR.13
        elif lifetime_s > 0:
            expires = now + timedelta(seconds=lifetime_s)  # C10.FR.08
        else:
            expires = None
        key = _key(token)
        self._entries.pop(key, None)
        self._entries[key] = _Entry(dict(info), expires)
        while len(self._entries) > MAX_ENTRIES:
            del self._entries[next(iter(self._entries))]  # C10.FR.07: the oldest

    def status(self, token: dict, now: datetime) -> str | None:
        """The cached status of `token`, None when not cached or expired (C10.FR.10)."""
        key = _key(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires is not None and now >= entry.expires:
            del self._entries[key]
            return None
        return entry.info.get("status")

    def forget(self, token: dict) -> bool:
        """Drop `token`'s entry (N10: a customer's data cleared); False when it had none."""
        return self._entries.pop(_key(token), None) is not None

    def clear(self) -> None:
        """C11.FR.01."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
