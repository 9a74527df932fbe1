"""The operator UI's business pages: users (create, activate / deactivate), a user's wallet
(balance, history, top-up) and tariffs (set a charger's rate or the global one).

Each form goes through the business API's own operation (csms.api.business): its body schema
checks the fields, its endpoint does the work, so the page can do nothing the API would not.
A USER logged in sees only `/ui/me`, their own account and wallet (001 §7.2, as the API).
"""

from __future__ import annotations

from typing import Any

from jsonschema.exceptions import best_match
from starlette.responses import HTMLResponse, RedirectResponse, Response

from csms.api import business
from csms.api.jsonio import ApiError
from csms.api.spec import Call, Endpoint, Operation
from csms.api.ui_auth import form_data, guard
from csms.api.ui_html import layout, quote_id, time_el
from reports import page
from reports.svg import esc

__all__ = ["me", "post_tariff", "post_top_up", "post_user", "post_user_active", "tariffs_page",
           "user_page", "users_page"]

HISTORY_ROWS = 100


def _operation(endpoint: Endpoint) -> Operation:
    return next(op for op in business.ROUTES if op.endpoint is endpoint)


async def run_operation(call: Call, endpoint: Endpoint, *, path: dict[str, Any] | None = None,
                        body: dict[str, Any] | None = None) -> Any:  # fmt: skip
    """The business API's operation of `endpoint`, with its body check, for the UI's caller
    (its role rules apply: the endpoint checks the principal as for an API call)."""
    op = _operation(endpoint)
    if op.admin and (call.principal is None or not call.principal.is_admin):
        raise ApiError(403, "ADMIN role required")
    if op.validator is not None and body is not None:
        error = best_match(op.validator.iter_errors(body))
        if error is not None:
            field = ".".join(str(p) for p in error.absolute_path) or "body"
            raise ApiError(422, f"{field}: {error.message}", field=field)
    return await endpoint(Call(call.request, call.ctx, call.principal, path or {}, {}, body))


def _form(action: str, csrf: str | None, inner: str, button: str) -> str:
    return (f'<form method="post" action="{esc(action)}" class="filters">'
            f'<input type="hidden" name="csrf" value="{esc(csrf or "")}">{inner}'
            f'<button type="submit">{esc(button)}</button></form>')


def _answer_page(call: Call, title: str, error: ApiError, back: str) -> Response:
    html = layout(title, [f'<p class="error">{esc(error)}</p>',
                          f'<p><a href="{esc(back)}">back</a></p>'],
                  csrf=call.request.state.csrf,
                  admin=call.principal is not None and call.principal.is_admin)  # fmt: skip
    return HTMLResponse(html, status_code=error.status)


@guard()
async def users_page(call: Call) -> Response:
    """`GET /ui/users`."""
    ctx = call.ctx
    rows = await ctx.db(ctx.store.list_users)
    lines = []
    for u in rows:
        link = f'<a href="/ui/users/{esc(quote_id(u["id"]))}">{esc(u["name"])}</a>'
        lines.append(f'<tr data-user="{esc(u["id"])}"><td>{link}</td><td>{esc(u["email"] or "–")}'
                     f'</td><td>{esc(u["role"])}</td><td>{esc(u["rfid_card_id"])}</td>'
                     f'<td>{"active" if u["active"] else "inactive"}</td>'
                     f"<td>{time_el(u['created_at'])}</td></tr>")
    table = ("<table><thead><tr><th>name</th><th>email</th><th>role</th><th>virtual RFID</th>"
             f"<th>account</th><th>created</th></tr></thead><tbody>{''.join(lines)}</tbody>"
             "</table>") if lines else '<p class="note">no users</p>'  # fmt: skip
    create = _form("/ui/users", call.request.state.csrf,
                   '<input name="name" placeholder="name" required> '
                   '<input name="email" type="email" placeholder="email (optional)"> '
                   '<select name="role"><option>USER</option><option>ADMIN</option></select> '
                   '<input name="currency" value="INR" size="4" pattern="[A-Z]{3}">',
                   "Create user")  # fmt: skip
    html = layout("Users", [table, page.section("New user", create)],
                  csrf=call.request.state.csrf)  # fmt: skip
    return HTMLResponse(html)


@guard()
async def post_user(call: Call) -> Response:
    """`POST /ui/users`: create; the new user's API token is shown once."""
    form = await form_data(call.request)
    body = {k: form[k] for k in ("name", "email", "role", "currency") if form.get(k)}
    try:
        made = await run_operation(call, business.create_user, body=body)
    except ApiError as error:
        return _answer_page(call, "User not created", error, "/ui/users")
    user = made["user"]
    html = layout(f"User {user['name']} created", [
        f'<p>API token (shown once, the user logs in with it): <code id="new-token">'
        f'{esc(made["token"])}</code></p>',
        f'<p><a href="/ui/users/{esc(quote_id(user["id"]))}">to the user</a></p>'],
        csrf=call.request.state.csrf)  # fmt: skip
    return HTMLResponse(html, status_code=201, headers={"Cache-Control": "no-store"})


async def _user_html(call: Call, user_id: str) -> str:
    ctx = call.ctx
    user = await run_operation(call, business.get_user, path={"user_id": user_id})
    history = await ctx.db(ctx.store.list_wallet_transactions, user_id=user["id"],
                           limit=HISTORY_ROWS)  # fmt: skip
    wallet = user["wallet"]
    base = f"/ui/users/{quote_id(user['id'])}"
    parts = [page.table(("id", "email", "role", "virtual RFID (idTag)", "account"),
                        [(user["id"], user["email"] or "–", user["role"], user["rfid_card_id"],
                          "active" if user["active"] else "inactive")])]  # fmt: skip
    csrf = call.request.state.csrf
    if call.principal is not None and call.principal.is_admin:
        flip = "false" if user["active"] else "true"
        parts.append(_form(f"{base}/active", csrf,
                           f'<input type="hidden" name="active" value="{flip}">',
                           "Deactivate" if user["active"] else "Activate"))  # fmt: skip
    if wallet is not None:
        parts.append(page.cards([("balance", f"{wallet['balance']} {wallet['currency']}", "")]))
    parts.append(page.section("Top up", _form(
        f"{base}/top-up", csrf,
        '<input name="amount" placeholder="500.00" required pattern="[0-9]+(\\.[0-9]{1,2})?">',
        "Top up")))
    rows = [(h.get("id"), h.get("created_at"), h.get("type"), h.get("amount"),
             h.get("balance_after", ""), h.get("transaction_id") or "")
            for h in (dict(x) for x in history)]  # fmt: skip
    parts.append(page.section("Wallet history", page.table(
        ("#", "time", "type", "amount", "balance after", "charging session"), rows,
        numeric=(0, 3, 4)) if rows else '<p class="note">none</p>'))
    return layout(f"User {user['name']}", parts, csrf=csrf,
                  admin=call.principal is not None and call.principal.is_admin)  # fmt: skip


@guard()
async def user_page(call: Call) -> Response:
    """`GET /ui/users/{user_id}`."""
    return HTMLResponse(await _user_html(call, call.path["user_id"]))


@guard(admin=False)
async def me(call: Call) -> Response:
    """`GET /ui/me`: a USER's own account (the admin token has none: to the fleet)."""
    user = call.principal.user if call.principal else None
    if user is None:
        return RedirectResponse("/ui", 303)
    return HTMLResponse(await _user_html(call, user["id"]))


@guard()
async def post_user_active(call: Call) -> Response:
    """`POST /ui/users/{user_id}/active`."""
    form = await form_data(call.request)
    user_id = call.path["user_id"]
    back = f"/ui/users/{quote_id(user_id)}"
    try:
        await run_operation(call, business.patch_user, path={"user_id": user_id},
                            body={"active": form.get("active") == "true"})  # fmt: skip
    except ApiError as error:
        return _answer_page(call, "Not changed", error, back)
    return RedirectResponse(back, 303)


@guard(admin=False)
async def post_top_up(call: Call) -> Response:
    """`POST /ui/users/{user_id}/top-up` (a USER tops up their own wallet, as in the API)."""
    form = await form_data(call.request)
    user_id = call.path["user_id"]
    admin = call.principal is not None and call.principal.is_admin
    back = f"/ui/users/{quote_id(user_id)}" if admin else "/ui/me"
    try:
        await run_operation(call, business.top_up, path={"user_id": user_id},
                            body={"amount": form.get("amount", "").strip()})  # fmt: skip
    except ApiError as error:
        return _answer_page(call, "No top-up", error, back)
    return RedirectResponse(back, 303)


@guard()
async def tariffs_page(call: Call) -> Response:
    """`GET /ui/tariffs`."""
    ctx = call.ctx
    rows = await ctx.db(ctx.store.list_tariffs)
    table = page.table(("charger", "rate per kWh", "currency"),
                       [(t["charger_id"] or "(global fallback)", t["rate_per_kwh"], t["currency"])
                        for t in rows], numeric=(1,)) if rows else '<p class="note">none</p>'
    form = _form("/ui/tariffs", call.request.state.csrf,
                 '<input name="charger_id" placeholder="charger id (empty: global)"> '
                 '<input name="rate_per_kwh" placeholder="12.50" required> '
                 '<input name="currency" value="INR" size="4" pattern="[A-Z]{3}">',
                 "Set tariff")  # fmt: skip
    return HTMLResponse(layout("Tariffs", [table, page.section("Set a rate", form)],
                               csrf=call.request.state.csrf))  # fmt: skip


@guard()
async def post_tariff(call: Call) -> Response:
    """`POST /ui/tariffs`."""
    form = await form_data(call.request)
    body: dict[str, Any] = {"charger_id": form.get("charger_id", "").strip() or None,
                            "rate_per_kwh": form.get("rate_per_kwh", "").strip()}
    if form.get("currency"):
        body["currency"] = form["currency"].strip()
    try:
        await run_operation(call, business.set_tariff, body=body)
    except ApiError as error:
        return _answer_page(call, "Tariff not set", error, "/ui/tariffs")
    return RedirectResponse("/ui/tariffs", 303)

