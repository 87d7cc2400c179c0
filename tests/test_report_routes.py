"""The routes section of the report, built from a small DuckDB holding the two route marts."""

from __future__ import annotations

import json
import re
from datetime import date

import duckdb
import pytest

from orchestration.lib.report.routes import routes_section, top_routes


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        """CREATE TABLE marts.fct_trade_routes AS SELECT * FROM (VALUES
               (DATE '2022-03-01', 'EU>KZ>RU', 2, 'KZ', NULL, 'RU', '854231', 330.00, 200.00),
               (DATE '2022-04-01', 'EU>KZ>RU', 2, 'KZ', NULL, 'RU', '854232', 150.00, 100.00),
               (DATE '2022-03-01', 'EU>AM>KZ>RU', 3, 'AM', 'KZ', 'RU', '854231', 110.00, 50.00),
               (DATE '2022-03-01', 'EU>AM>KZ>RU', 3, 'AM', 'KZ', 'RU', '854239', 80.00, NULL),
               (DATE '2021-06-01', 'EU>GE>RU', 2, 'GE', NULL, 'RU', '854231', 999.00, 999.00),
               (DATE '2022-05-01', 'EU>AM>BY', 2, 'AM', NULL, 'BY', '854231', 70.00, 0.00)
           ) AS t(period, route, hops, first_country, second_country, destination, hs6, first_leg_usd,
                  smallest_leg_usd)"""
    )
    con.execute(
        """CREATE TABLE marts.fct_route_member_states AS SELECT * FROM (VALUES
               (2022, 'EU>KZ>RU', 'DE', 100.00, 0.8, 1),
               (2022, 'EU>KZ>RU', 'FR', 25.00, 0.2, 2),
               (2022, 'EU>AM>KZ>RU', 'IT', -40.00, NULL, 1),
               (2021, 'EU>KZ>RU', 'PL', 500.00, 1.0, 1)
           ) AS t(year, route, member_state, rise_eur, share_of_rise, rank_in_route)"""
    )
    return con


def _figure_data(fragment: str, div_id: str) -> list[dict]:
    """The traces plotly was given for the div, read back from the fragment's script."""
    script = fragment[fragment.index(f'"{div_id}"') :]
    return json.JSONDecoder().raw_decode(script[re.search(r"\[", script).start() :])[0]


def test_the_top_routes_are_what_could_have_passed_over_the_last_12_months(con: duckdb.DuckDBPyConnection) -> None:
    routes = top_routes(con, date(2022, 6, 1))
    got = [
        (r["route"], float(r["passable_usd"]), r["rows_with_an_unreported_leg"]) for r in routes.iter_rows(named=True)
    ]
    # EU>GE>RU is older than 12 months; EU>AM>BY passed nothing; the unreported leg is counted, not summed
    assert got == [("EU>KZ>RU", 300.0, 0), ("EU>AM>KZ>RU", 50.0, 1)]


def test_routes_section_draws_the_sankey_and_the_member_states(con: duckdb.DuckDBPyConnection) -> None:
    fragment = routes_section(con, date(2022, 6, 1))

    assert "<html" not in fragment and "plotly.js" not in fragment.lower()[:200], "a fragment, no plotly.js inlined"
    (sankey,) = _figure_data(fragment, "routes-sankey")
    assert sankey["type"] == "sankey"
    labels = sankey["node"]["label"]
    links = {
        (labels[s], labels[t]): v
        for s, t, v in zip(sankey["link"]["source"], sankey["link"]["target"], sankey["link"]["value"], strict=True)
    }
    assert links == {
        ("EU (EU)", "KZ (first transit)"): 300.0,
        ("KZ (first transit)", "RU (destination)"): 300.0,
        ("EU (EU)", "AM (first transit)"): 50.0,
        ("AM (first transit)", "KZ (second transit)"): 50.0,
        ("KZ (second transit)", "RU (destination)"): 50.0,
    }
    bars = _figure_data(fragment, "routes-member-states")
    assert {(b["name"], tuple(b["x"])) for b in bars} == {("DE", (0.8,)), ("FR", (0.2,))}, "2022 only; no share"
    assert "<td>EU&gt;AM&gt;KZ&gt;RU</td><td>IT</td><td>-40</td><td></td>" in fragment, "a fall has no share"
    assert "<td>PL</td>" not in fragment, "another year"


def test_without_a_valued_route_the_section_says_why(con: duckdb.DuckDBPyConnection) -> None:
    fragment = routes_section(con, date(2020, 6, 1))
    assert "No route could be valued" in fragment and "sankey" not in fragment
