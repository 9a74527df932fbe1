"""The USER-token half of the schemathesis run (tests/csms/test_api_schemathesis.py has the
admin half and the fixture): a file of its own so that the two runs, each a minute or more,
go to the two test workers side by side (`--dist loadfile`)."""

from __future__ import annotations

import pytest

from tests.csms.test_api_schemathesis import _document, _run, answered, seeded  # noqa: F401

pytestmark = pytest.mark.slow


async def test_schemathesis_user_token(seeded):  # noqa: F811
    """With a USER token: all checks pass; ADMIN operations never answer 2xx, the user's own
    profile, wallet and sessions do."""
    csms, token, workdir = seeded
    document = await _document(csms, workdir)
    code, out = await _run(csms, token, workdir, "user")
    assert code == 0, out[-20000:]
    seen = answered(workdir, "user")
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            ok = any(200 <= s < 300 for s in seen.get((method.upper(), path), ()))
            if operation.get("x-role") == "ADMIN":
                assert not ok, (method, path, seen.get((method.upper(), path)))
    for path in ("/api/users/{user_id}", "/api/users/{user_id}/wallet", "/api/transactions"):
        assert any(200 <= s < 300 for s in seen[("GET", path)]), path
