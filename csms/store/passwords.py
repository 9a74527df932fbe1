"""Basic-auth keys of security profiles 1 and 2, kept as salted scrypt hashes, never in clear.

The stored form carries its own parameters (`scrypt$n$r$p$salt_hex$hash_hex`), so the cost can be
raised later without invalidating old hashes, and a load test can seed thousands of chargers with
a cheaper `n` without a different code path.
"""

from __future__ import annotations

import hashlib
import hmac
import os

# scrypt n=2**14, r=8, p=1: ~50 ms and 16 MiB per check. AuthorizationKeys are machine-generated
# 16-40 character secrets, not human passwords, so this is ample; hashes are only checked on
# connect (call `verify_password` from a thread when many chargers connect at once).
DEFAULT_N = 2**14
_R = 8
_P = 1
_DKLEN = 32


def hash_password(password: str, *, n: int = DEFAULT_N) -> str:
    """A self-describing salted hash to store instead of the charge point's AuthorizationKey."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=_R, p=_P, dklen=_DKLEN)
    return f"scrypt${n}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches `stored`; False for no hash or a malformed one (no raise)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
