"""The routes section of the publication report: the main routes into Russia and Belarus over the 12 months to
the report's month (a Sankey of what could have passed all the way), and the member states whose exports drove
the rise of each top route's first leg. An HTML fragment; the report wires it in and inlines plotly.js once."""

from __future__ import annotations

import html
import itertools
from datetime import date

import duckdb
import plotly.graph_objects as go
import polars as pl

TOP_ROUTES = 10
TOP_MEMBER_STATES = 5
# Hop positions of a Sankey node: a country can be the first transit country of one route and the second of
# another, and a Sankey needs no cycles, so each (country, position) is its own node.
POSITIONS = ("EU", "first transit", "second transit", "destination")


def top_routes(con: duckdb.DuckDBPyConnection, period: date, limit: int = TOP_ROUTES) -> pl.DataFrame:
    """The routes with the most that could have passed all the way (sum of smallest_leg_usd) over the 12 months to
    `period`; rows whose smallest leg is unknown (a leg nobody reported) are left out of the sum and counted."""
    return con.sql(
        """
        SELECT route, any_value(hops) AS hops, any_value(first_country) AS first_country,
               any_value(second_country) AS second_country, any_value(destination) AS destination,
               sum(smallest_leg_usd) AS passable_usd, sum(first_leg_usd) FILTER (WHERE smallest_leg_usd IS NOT NULL)
                   AS first_leg_usd,
               count(*) FILTER (WHERE smallest_leg_usd IS NULL) AS rows_with_an_unreported_leg
        FROM marts.fct_trade_routes
        WHERE period BETWEEN CAST(? AS DATE) - INTERVAL 11 MONTH AND CAST(? AS DATE)
        GROUP BY route
        HAVING sum(smallest_leg_usd) > 0
        ORDER BY passable_usd DESC, route
        LIMIT ?
        """,
        params=[period, period, limit],
    ).pl()


def route_member_states(
    con: duckdb.DuckDBPyConnection, year: int, routes: list[str], limit: int = TOP_MEMBER_STATES
) -> pl.DataFrame:
    """The member states with the largest rise of each route's first leg in `year`, with their share of it."""
    if not routes:
        return pl.DataFrame(schema=["route", "member_state", "rise_eur", "share_of_rise", "rank_in_route"])
    return con.sql(
        """
        SELECT route, member_state, rise_eur, share_of_rise, rank_in_route
        FROM marts.fct_route_member_states
        WHERE year = ? AND list_contains(?, route) AND rank_in_route <= ?
        ORDER BY route, rank_in_route
        """,
        params=[year, routes, limit],
    ).pl()


def _sankey(routes: pl.DataFrame) -> go.Figure:
    nodes: dict[tuple[str, int], int] = {}
    links: dict[tuple[int, int], float] = {}

    def node(country: str, position: int) -> int:
        return nodes.setdefault((country, position), len(nodes))

    for r in routes.iter_rows(named=True):
        path = [("EU", 0), (r["first_country"], 1)]
        if r["second_country"] is not None:
            path.append((r["second_country"], 2))
        path.append((r["destination"], 3))
        for a, b in itertools.pairwise(path):
            key = (node(*a), node(*b))
            links[key] = links.get(key, 0.0) + float(r["passable_usd"])
    labels = [f"{country} ({POSITIONS[position]})" for country, position in nodes]
    fig = go.Figure(
        go.Sankey(
            node={"label": labels, "pad": 18},
            link={
                "source": [s for s, _ in links],
                "target": [t for _, t in links],
                "value": list(links.values()),
            },
        )
    )
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def _member_states_figure(members: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    for (state,), rows in sorted(members.partition_by("member_state", as_dict=True, maintain_order=True).items()):
        fig.add_bar(
            name=state, y=rows["route"].to_list(), x=rows["share_of_rise"].cast(pl.Float64).to_list(), orientation="h"
        )
    fig.update_layout(
        barmode="stack",
        height=120 + 40 * members["route"].n_unique(),
        xaxis={"title": "share of the first leg's rise against its matched baseline", "tickformat": ".0%"},
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
    )
    return fig


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def routes_section(con: duckdb.DuckDBPyConnection, period: date) -> str:
    """HTML fragment: the Sankey of the top routes of the 12 months to `period` and, for those routes, the member
    states behind the rise of the first leg in `period`'s year."""
    routes = top_routes(con, period)
    heading = f"<h2>Routes into Russia and Belarus, 12 months to {period:%Y-%m}</h2>"
    if routes.is_empty():
        return (
            f'<section id="routes">{heading}<p>No route could be valued in these months: either no goods were '
            "recorded on every leg, or a leg was not reported (marts.fct_trade_routes gives the reason per leg)."
            "</p></section>"
        )
    unreported = int(routes["rows_with_an_unreported_leg"].sum())
    members = route_member_states(con, period.year, routes["route"].to_list())
    parts = [
        f'<section id="routes">{heading}',
        "<p>Each route's width is what could have passed all the way: per month and HS6 code the smallest of its "
        "legs, each leg as its reporter recorded it (USD), summed over the months. An upper bound: the legs need "
        f"not carry the same goods. {unreported:,} month-code rows of these routes had a leg nobody reported and "
        "are not in the widths.</p>",
        _sankey(routes).to_html(full_html=False, include_plotlyjs=False, div_id="routes-sankey"),
    ]
    if members.is_empty():
        parts.append(f"<p>No member-state breakdown for {period.year}: no first leg compared with a baseline.</p>")
    else:
        parts.append(
            f"<h3>Member states behind the rise of the first leg, {period.year}</h3>"
            f"<p>The {TOP_MEMBER_STATES} member states with the largest rise of their exports to the first transit "
            "country (the route's product keys, against the matched baseline), as a share of the leg's total rise."
            "</p>"
        )
        shown = members.drop_nulls("share_of_rise")
        if shown.is_empty():
            parts.append("<p>The first legs of these routes did not rise against their baseline.</p>")
        else:
            parts.append(
                _member_states_figure(shown).to_html(
                    full_html=False, include_plotlyjs=False, div_id="routes-member-states"
                )
            )
        parts.append(
            "<table><tr><th>route</th><th>member state</th><th>rise (EUR)</th><th>share of rise</th></tr>"
            + "".join(
                f"<tr><td>{html.escape(r['route'])}</td><td>{html.escape(r['member_state'])}</td>"
                f"<td>{r['rise_eur']:,.0f}</td><td>{_share(r['share_of_rise'])}</td></tr>"
                for r in members.iter_rows(named=True)
            )
            + "</table>"
        )
    parts.append("</section>")
    return "".join(parts)
