"""The one list helper every list route uses: filter, paginate, answer JSON or CSV.

    CHARGERS = Listing("chargers", columns=(...), params=(Param("vendor"), ...))
    return await respond(request, CHARGERS, fetch, query)

JSON answers are a bare array (so `GET /api/chargers` stays a list for older clients) with the
page in headers: `X-Total-Count` (all matching rows, when known), `X-Limit`, `X-Offset`. CSV
(`?format=csv` or `Accept: text/csv`) gives the same page (seeds/003: "generated per paginated
page") with a header row of `columns`; nested values are JSON, Decimals exact, None empty.

`fetch(filters)` returns rows; when `store_pages` is set the listing's store query filters and
pages itself (`fetch(filters, limit, offset)` returns the page and the count of all matching
rows; big tables: transactions, message log), else the helper filters the rows by each
`Param.match` and slices the page.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from csms.api.jsonio import DecimalJSONResponse, to_jsonable
from csms.api.params import Param

#: a listed row: a store row (a TypedDict) or one decorated with live fields
Row = Mapping[str, Any]
#: `fetch(filters)` -> rows, or with `Listing.store_pages` `fetch(filters, limit, offset)` ->
#: (the page, the count of all matching rows)
Fetch = Callable[..., Sequence[Row] | tuple[Sequence[Row], int]]

MAX_LIMIT = 1000
PAGING = (
    Param("limit", "integer", "page size", default=100, minimum=1, maximum=MAX_LIMIT),
    Param("offset", "integer", "rows to skip", default=0, minimum=0, maximum=2**31),
    Param("format", description="csv for a CSV export (or Accept: text/csv)", enum=("json", "csv")),
)


@dataclass(frozen=True, slots=True)
class Listing:
    name: str
    columns: tuple[str, ...]
    params: tuple[Param, ...] = ()
    store_pages: bool = False
    #: the columns every JSON row has (None: all; a grouping may leave some out)
    always: tuple[str, ...] | None = None

    @property
    def all_params(self) -> tuple[Param, ...]:
        return (*self.params, *PAGING)


def wants_csv(request: Request, query: dict[str, Any]) -> bool:
    if query.get("format") is not None:
        return query["format"] == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int | str):
        return str(value)
    return json.dumps(value, default=to_jsonable, separators=(",", ":"))


def to_csv(rows: Sequence[Row], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


async def respond(
    request: Request,
    listing: Listing,
    fetch: Fetch,
    query: dict[str, Any],
    *,
    decorate: Callable[[Sequence[Row]], Sequence[Row]] | None = None,
) -> Response:
    """The page of `listing` that `query` (parsed `all_params`, plus forced scope filters)
    asks for; `decorate` adds live fields (connection status, estimates) to the page only."""
    limit, offset = query["limit"], query["offset"]
    filters = {p.name: query.get(p.name) for p in listing.params}
    rows: Sequence[Row]
    if listing.store_pages:
        paged = await asyncio.to_thread(fetch, filters, limit, offset)
        assert isinstance(paged, tuple), f"{listing.name}: store_pages fetch returns (rows, n)"
        rows, total = paged
    else:
        found = await asyncio.to_thread(fetch, filters)
        assert not isinstance(found, tuple), f"{listing.name}: fetch returns the rows"
        active = [(p, v) for p in listing.params if (v := filters.get(p.name)) is not None]
        rows = [row for row in found if all(p.matches(row, v) for p, v in active)]
        total = len(rows)
        rows = rows[offset : offset + limit]
    if decorate is not None:
        rows = decorate(rows)
    headers = {"X-Total-Count": str(total), "X-Limit": str(limit), "X-Offset": str(offset)}
    if wants_csv(request, query):
        headers["Content-Disposition"] = f'attachment; filename="{listing.name}.csv"'
        return Response(
            to_csv(rows, listing.columns), media_type="text/csv; charset=utf-8", headers=headers
        )
    return DecimalJSONResponse(rows, headers=headers)
