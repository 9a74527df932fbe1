"""An HTML form for each CSMS-initiated action, generated from the action's request schema (the
actions API's: the `ocpp` package's schema of the charger's OCPP version, with the API's
rules, csms.api.chargers_api.action_schema), and the way back from the form's fields to the
OCPP payload.

Fields are named by their dotted path (`chargingProfile.chargingSchedule.duration`); an enum
is a select, a boolean a select of true/false, a number or integer a number input, an array a
JSON text area (lists of records do not fit in flat fields). A blank optional field is left
out of the payload; a required one left blank is named by the schema check that follows.
"""

from __future__ import annotations

import json
from typing import Any

from csms.api.jsonio import ApiError
from reports.svg import esc

__all__ = ["fields_html", "payload_from_form"]


def _label(path: str, schema: dict[str, Any], required: bool) -> str:
    hint = []
    if "maxLength" in schema:
        hint.append(f"≤ {schema['maxLength']} chars")
    if schema.get("format") == "date-time":
        hint.append("date-time, e.g. 2026-12-07T12:00:00Z")
    if schema.get("type") == "array":
        hint.append("JSON array")
    note = f' <span class="hint">{esc(", ".join(hint))}</span>' if hint else ""
    star = " *" if required else ""
    return f"{esc(path)}{star}{note}"


def _input(path: str, schema: dict[str, Any], required: bool) -> str:
    kind = schema.get("type")
    name = esc(path)
    req = " required" if required else ""
    if "enum" in schema:
        options = "" if required else '<option value="">(leave out)</option>'
        options += "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in schema["enum"])
        return f'<select name="{name}"{req}>{options}</select>'
    if kind == "boolean":
        options = "" if required else '<option value="">(leave out)</option>'
        options += "<option>true</option><option>false</option>"
        return f'<select name="{name}"{req}>{options}</select>'
    if kind in ("integer", "number"):
        step = "1" if kind == "integer" else "any"
        bounds = "".join(f' {attr}="{schema[key]}"' for key, attr in
                         (("minimum", "min"), ("maximum", "max")) if key in schema)  # fmt: skip
        return f'<input type="number" name="{name}" step="{step}"{bounds}{req}>'
    if kind == "array" or kind == "object":
        return f'<textarea name="{name}" rows="3" cols="50"{req}></textarea>'
    size = min(int(schema.get("maxLength", 40)), 60)
    return f'<input type="text" name="{name}" size="{size}"{req}>'


def fields_html(schema: dict[str, Any], prefix: str = "", *, enforced: bool = True) -> str:
    """The form's fields for an object schema (nested objects as fieldsets). A field is
    `required` in HTML only when every object above it is required too (`enforced`): the
    required fields of an optional object may stay blank when the object is left out."""
    required = set(schema.get("required", []))
    parts = []
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        if sub.get("type") == "object" and "properties" in sub:
            star = " *" if key in required else ""
            parts.append(f"<fieldset><legend>{esc(path)}{star}</legend>"
                         f"{fields_html(sub, path + '.', enforced=enforced and key in required)}"
                         "</fieldset>")  # fmt: skip
            continue
        parts.append(f"<label>{_label(path, sub, key in required)}<br>"
                     f"{_input(path, sub, enforced and key in required)}</label>")  # fmt: skip
    return "".join(parts) or '<p class="note">no fields</p>'


def _value(path: str, schema: dict[str, Any], text: str) -> Any:
    kind = schema.get("type")
    try:
        if "enum" in schema and kind != "integer":
            return text
        if kind == "integer":
            return int(text)
        if kind == "number":
            number = float(text)
            return int(number) if number.is_integer() and "." not in text else number
        if kind == "boolean":
            if text not in ("true", "false"):
                raise ValueError("true or false")
            return text == "true"
        if kind in ("array", "object"):
            return json.loads(text)
    except ValueError as error:
        raise ApiError(422, f"{path}: {error}", field=path) from None
    return text


def payload_from_form(schema: dict[str, Any], form: dict[str, str], prefix: str = "") -> dict:
    """The OCPP payload the form's fields describe (blank fields left out)."""
    out: dict[str, Any] = {}
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        if sub.get("type") == "object" and "properties" in sub:
            filled = any(name.startswith(path + ".") and value.strip()
                         for name, value in form.items())  # fmt: skip
            if filled or key in schema.get("required", []):
                out[key] = payload_from_form(sub, form, path + ".")
            continue
        text = form.get(path, "").strip()
        if text:
            out[key] = _value(path, sub, text)
    return out
