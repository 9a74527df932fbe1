"""The operator UI's route table: server-rendered pages under `/ui` (csms.api.ui_*), in the
API's one route table but left out of its OpenAPI document (HTML behind a session cookie
with CSRF-checked forms: no API; `x-undocumented` in the document gives the reason).

    GET  /ui/login, POST /ui/login, POST /ui/logout          csms.api.ui_auth
    GET  /ui                                                 fleet (search, sort, filters, CSV)
    GET  /ui/chargers/{cp_id}                                one charger
    POST /ui/chargers/{cp_id}/actions/{action}               a command from its form
    GET  /ui/events                                          server-sent events
    GET  /ui/users, /ui/users/{id}, /ui/me, /ui/tariffs      business pages (+ their POSTs)

Every route but the login page requires a session (or Basic/Bearer); every POST a CSRF token.
"""

from __future__ import annotations

from csms.api import ui_auth, ui_business, ui_charger, ui_events, ui_fleet
from csms.api.params import Param
from csms.api.spec import Operation

__all__ = ["ROUTES"]

PAGE = "operator UI page (HTML, session cookie from /ui/login)"
FORM = "operator UI form (session cookie and CSRF token)"
STREAM = "operator UI server-sent events (session cookie)"
CP_ID = Param("cp_id", description="charge point id")
USER_ID = Param("user_id", description="user id")
ACTION = Param("action", enum=tuple(sorted(ui_charger.ACTIONS)))


def _ui(method: str, path: str, summary: str, endpoint, why: str, *params: Param) -> Operation:
    """A UI route: its endpoint checks the caller itself (csms.api.ui_auth.guard)."""
    return Operation(method, path, summary, endpoint, auth=False, path_params=params, tag="ui",
                     media="text/html", undocumented=why)  # fmt: skip


ROUTES: tuple[Operation, ...] = (
    _ui("GET", "/ui/login", "Log-in form", ui_auth.login_form, "operator UI login page (HTML)"),
    _ui("POST", "/ui/login", "Log in", ui_auth.login, FORM),
    _ui("POST", "/ui/logout", "Log out", ui_auth.logout, FORM),
    _ui("GET", "/ui", "Fleet", ui_fleet.fleet, PAGE),
    _ui("GET", "/ui/chargers/{cp_id}", "One charger", ui_charger.charger_page, PAGE, CP_ID),
    _ui("POST", "/ui/chargers/{cp_id}/actions/{action}", "Send a command",
        ui_charger.send_from_form, FORM, CP_ID, ACTION),
    _ui("GET", "/ui/events", "Live events", ui_events.events, STREAM),
    _ui("GET", "/ui/users", "Users", ui_business.users_page, PAGE),
    _ui("POST", "/ui/users", "Create a user", ui_business.post_user, FORM),
    _ui("GET", "/ui/users/{user_id}", "A user and wallet", ui_business.user_page, PAGE, USER_ID),
    _ui("POST", "/ui/users/{user_id}/active", "Activate or deactivate",
        ui_business.post_user_active, FORM, USER_ID),
    _ui("POST", "/ui/users/{user_id}/top-up", "Top up a wallet", ui_business.post_top_up, FORM,
        USER_ID),
    _ui("GET", "/ui/me", "My account", ui_business.me, PAGE),
    _ui("GET", "/ui/tariffs", "Tariffs", ui_business.tariffs_page, PAGE),
    _ui("POST", "/ui/tariffs", "Set a tariff", ui_business.post_tariff, FORM),
)
