"""Who may see the operator UI, and the forms' protection against cross-site request forgery.

Logging in (`/ui/login`) takes the admin token or a user's API token (csms.services.users, the
rights the API enforces: ADMIN sees everything, a USER only their own account) and sets a
session cookie: random, `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's
page sends it), `Path=/ui`, `Secure` when the API is served over TLS. The session keeps the
token on the server and authenticates it again on every request, so a deactivated user is out
at once. HTTP Basic (any user name, the
token as password) and a Bearer token work too, for scripts.

Every POST carries the session's CSRF token (a hidden `csrf` field, or `X-CSRF-Token`),
compared in constant time: 403 when it is missing or wrong. A Basic or Bearer caller has no
session and so cannot POST a form (a browser resends Basic credentials by itself: a forged
form would ride on them). The login form's own token is a double-submit cookie.

Without a session a page answers 303 to the login page; the event stream and the POSTs 401.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from csms.api.jsonio import ApiError
from csms.api.spec import Call, presented_token
from csms.api.ui_html import layout
from csms.services import users
from reports.svg import esc

__all__ = ["COOKIE", "UiSession", "form_data", "guard", "login", "login_form", "logout"]

COOKIE = "cb_session"
LOGIN_COOKIE = "cb_login"
#: a session ends this long after its last use
IDLE_S = 8 * 3600
MAX_SESSIONS = 10_000


@dataclass(slots=True)
class UiSession:
    token: str
    csrf: str
    used: float


def _sessions(call: Call) -> dict[str, UiSession]:
    """This app's sessions (one dict per running API, on its Starlette state)."""
    state = call.request.app.state
    if not hasattr(state, "ui_sessions"):
        state.ui_sessions = {}
    return state.ui_sessions


def _session(call: Call) -> tuple[str, UiSession] | None:
    sid = call.request.cookies.get(COOKIE)
    if not sid:
        return None
    found = _sessions(call).get(sid)
    if found is None or time.monotonic() - found.used > IDLE_S:
        _sessions(call).pop(sid, None)
        return None
    found.used = time.monotonic()
    return sid, found


async def _principal(call: Call, token: str) -> users.Principal | None:
    ctx = call.ctx
    return await ctx.db(users.authenticate, ctx.store, token, admin_token=ctx.admin_token)


async def form_data(request: Any) -> dict[str, str]:
    """The fields of a URL-encoded form body (what the UI's forms and script send; the last
    value of a repeated name); read once per request."""
    cached = getattr(request.state, "form", None)
    if cached is None:
        raw = await request.body()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(422, "form is not UTF-8", field="body") from None
        cached = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=500))
        request.state.form = cached
    return cached


def _wants_html(call: Call) -> bool:
    return call.request.method in ("GET", "HEAD") and "fragment" not in call.request.query_params


Page = Callable[[Call], Awaitable[Any]]


def guard(*, admin: bool = True, html: bool = True) -> Callable[[Page], Page]:
    """Wrap a UI endpoint: a session (or Basic/Bearer) is required, ADMIN unless `admin` is
    False, and every POST must carry the session's CSRF token. Sets `call.principal` and
    `call.request.state.csrf` (None without a session)."""

    def wrap(endpoint: Page) -> Page:
        @functools.wraps(endpoint)
        async def guarded(call: Call) -> Any:
            request = call.request
            found = _session(call)
            principal = None
            csrf = None
            if found is not None:
                principal = await _principal(call, found[1].token)
                csrf = found[1].csrf
            else:
                token = presented_token(request, basic=True)
                if token:
                    principal = await _principal(call, token)
            if principal is None:
                if html and _wants_html(call):
                    target = request.url.path + (f"?{request.url.query}" if request.url.query
                                                 else "")  # fmt: skip
                    return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", 303)
                raise ApiError(401, "log in first (/ui/login)")
            if admin and not principal.is_admin:
                raise ApiError(403, "ADMIN role required")
            if request.method == "POST":
                form = await form_data(request)
                given = str(form.get("csrf") or request.headers.get("X-CSRF-Token") or "")
                if csrf is None or not hmac.compare_digest(given.encode(), csrf.encode()):
                    raise ApiError(403, "missing or wrong CSRF token (reload the page)")
            call.principal = principal
            request.state.csrf = csrf
            return _hardened(await endpoint(call))

        return guarded

    return wrap


def _hardened(response: Any) -> Any:
    """No other site may frame a page (clickjacking a form), no cache keeps one."""
    if isinstance(response, Response):
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _safe_next(target: str | None) -> str:
    """Only a path of this UI (no other site: an open redirect helps phishing)."""
    if not target:
        return "/ui"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui") or "\\" in target:
        return "/ui"
    return target


def _login_page(next_url: str, nonce: str, error: str = "") -> str:
    note = f'<p class="error">{esc(error)}</p>' if error else ""
    form = (
        '<div class="login"><form method="post" action="/ui/login">'
        f'<input type="hidden" name="csrf" value="{esc(nonce)}">'
        f'<input type="hidden" name="next" value="{esc(next_url)}">'
        '<label>Token (the admin token, or your API token)<br>'
        '<input type="password" name="token" autocomplete="current-password" size="40" '
        'autofocus required></label><p><button type="submit">Log in</button></p>'
        f"{note}</form></div>"
    )
    return layout("Log in", [form], csrf=None, admin=False).replace(
        '<a href="/ui/me">My account</a>', "")


async def login_form(call: Call) -> Response:
    """`GET /ui/login`: the form, with a fresh double-submit token in a cookie."""
    nonce = secrets.token_urlsafe(24)
    next_url = _safe_next(call.request.query_params.get("next"))
    response = HTMLResponse(_login_page(next_url, nonce))
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict", path="/ui")
    return _hardened(response)


async def login(call: Call) -> Response:
    """`POST /ui/login`: check the form's token against its cookie, then the token given."""
    request = call.request
    form = await form_data(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    given = str(form.get("csrf") or "")
    if not nonce or not hmac.compare_digest(given.encode(), nonce.encode()):
        raise ApiError(403, "missing or wrong CSRF token (reload the login page)")
    next_url = _safe_next(str(form.get("next") or ""))
    token = str(form.get("token") or "")
    principal = await _principal(call, token) if token else None
    if principal is None:
        fresh = secrets.token_urlsafe(24)
        refused = HTMLResponse(_login_page(next_url, fresh, "unknown token"), status_code=401)
        refused.set_cookie(LOGIN_COOKIE, fresh, httponly=True, samesite="strict", path="/ui")
        return refused
    sessions = _sessions(call)
    if len(sessions) >= MAX_SESSIONS:  # the oldest goes: memory stays bounded
        del sessions[min(sessions, key=lambda sid: sessions[sid].used)]
    sid = secrets.token_urlsafe(32)
    sessions[sid] = UiSession(token, secrets.token_urlsafe(32), time.monotonic())
    if not principal.is_admin:
        next_url = "/ui/me"
    response = RedirectResponse(next_url, 303)
    response.set_cookie(COOKIE, sid, httponly=True, samesite="strict", path="/ui",
                        secure=request.url.scheme == "https")  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path="/ui")
    return response


@guard(admin=False)
async def logout(call: Call) -> Response:
    """`POST /ui/logout` (CSRF-checked): the session ends on the server too."""
    sid = call.request.cookies.get(COOKIE)
    if sid:
        _sessions(call).pop(sid, None)
    response = RedirectResponse("/ui/login", 303)
    response.delete_cookie(COOKIE, path="/ui")
    return response
