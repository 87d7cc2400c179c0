"""The publication report: one self-contained HTML file (plotly.js and the data inlined, no network needed).

Sections, as analysts read: a banner when any source is synthetic; what changed in the month; the top circumvention
signals, each with its score and a sentence saying why; substitution of direct exports by product; additional EU
exports not recorded as imports, by country and year; unit values of the top products; the main routes into Russia
and Belarus (a Sankey) and the member states behind them; EU exports to each transit country against its
pre-invasion baseline; the mirror gap by country; the CHP-tier breakdown; source coverage and staleness; the
publication's checks (one line per table) and vintages.
"""

from __future__ import annotations

import html
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import plotly.colors
import plotly.graph_objects as go
import polars as pl
from plotly.offline import get_plotlyjs

from orchestration.lib.report.routes import routes_section

TOP_SIGNALS = 15
TOP_PRODUCTS = 12


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _money(value: float | Decimal | None, currency: str) -> str:
    if _missing(value):
        return "n/a"
    value = float(value)
    for threshold, suffix in ((1e9, " bn"), (1e6, " m"), (1e3, " k")):
        if abs(value) >= threshold:
            return f"{currency} {value / threshold:,.1f}{suffix}"
    return f"{currency} {value:,.0f}"


def signal_sentence(row: dict) -> str:
    """One sentence per ranked signal: what rose, against what, and for how long."""
    tier = f"CHP tier {row['chp_tier']}" if row["chp_tier"] else "not on the CHP list"
    restricted = ", export-restricted" if row["is_export_restricted"] else ""
    basis = "the control group's growth" if row["excess_basis"] == "counterfactual" else "the matched baseline"
    direct = (
        f"while direct EU exports to Russia/Belarus fell by {_money(row['direct_fall_eur'], 'EUR')}"
        if not _missing(row["direct_fall_eur"]) and row["direct_fall_eur"] > 0
        else "although direct EU exports to Russia/Belarus did not fall"
    )
    return (
        f"{row['transit_country']}, {row['product_key']} ({tier}{restricted}): in the 12 months to "
        f"{row['period']:%Y-%m}, EU exports were {_money(row['eu_excess_usd'], 'USD')} above {basis} and "
        f"{row['transit_country']}'s exports to Russia/Belarus {_money(row['transit_rise_usd'], 'USD')} above theirs, "
        f"{direct}; both above baseline in {row['persistence_months']} of 12 months."
    )


def _cell(value: object) -> str:
    if _missing(value):
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return str(float(value))
    return str(value)


def _table(frame: pl.DataFrame, table_id: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in frame.iter_rows()
    )
    return (
        f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'
    )


def _figure(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(template="plotly_white", margin={"l": 60, "r": 20, "t": 50, "b": 50}, height=420)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False})


def latest_period(con: duckdb.DuckDBPyConnection) -> date:
    row = con.execute("SELECT max(period) FROM marts.fct_eu_exports").fetchall()[0][0]
    if row is None:
        raise ValueError("the warehouse holds no month yet")
    return row


def _eu_exports_vs_baseline(con: duckdb.DuckDBPyConnection) -> go.Figure:
    monthly = con.sql(
        """WITH monthly AS (
               SELECT e.partner AS country, e.period, sum(e.value_eur * fx.usd_per_eur) / 1e6 AS usd_m
               FROM marts.fct_eu_exports AS e
               JOIN marts.dim_fx_monthly AS fx USING (period)
               WHERE e.partner IN (SELECT DISTINCT reporter FROM marts.source_coverage WHERE source = 'comtrade')
               GROUP BY ALL
           ),
           baseline AS (SELECT DISTINCT baseline_window_start, baseline_window_end FROM marts.fct_transit_to_russia)
           SELECT m.country, m.period, m.usd_m,
                  avg(m.usd_m) FILTER (WHERE m.period BETWEEN w.baseline_window_start AND w.baseline_window_end)
                      OVER (PARTITION BY m.country) AS baseline_m,
                  count(*) FILTER (WHERE m.period BETWEEN w.baseline_window_start AND w.baseline_window_end)
                      OVER (PARTITION BY m.country) AS baseline_months
           FROM monthly AS m CROSS JOIN baseline AS w
           ORDER BY m.country, m.period"""
    ).pl()
    fig = go.Figure()
    palette = plotly.colors.qualitative.Plotly
    by_country = sorted(monthly.partition_by("country", as_dict=True, maintain_order=True).items())
    for i, ((country,), rows) in enumerate(by_country):
        color = palette[i % len(palette)]
        fig.add_trace(
            go.Scatter(
                x=rows["period"].to_list(),
                y=rows["usd_m"].to_list(),
                mode="lines+markers",
                name=country,
                legendgroup=country,
                line={"color": color},
            )
        )
        baseline, months = rows["baseline_m"][0], rows["baseline_months"][0]
        if months:
            fig.add_trace(
                go.Scatter(
                    x=[rows["period"].min(), rows["period"].max()],
                    y=[baseline, baseline],
                    mode="lines",
                    line={"dash": "dash", "color": color},
                    legendgroup=country,
                    name=f"{country} baseline ({months} months)",
                )
            )
    fig.update_layout(title="EU exports to each transit country, million USD (dashed: pre-invasion monthly average)")
    return fig


def _mirror_gap(con: duckdb.DuckDBPyConnection, period: date) -> go.Figure:
    gaps = con.sql(
        """SELECT partner_country AS country, sum(mirror_gap_usd) / 1e6 AS gap_m,
                  sum(eu_exports_usd * cif_fob_factor) / 1e6 AS eu_cif_m, sum(partner_imports_from_eu_usd) / 1e6 AS p_m
           FROM marts.fct_mirror_flows
           WHERE coverage_flag = 'complete' AND period BETWEEN ? - INTERVAL 11 MONTH AND ?
           GROUP BY 1 ORDER BY gap_m DESC""",
        params=[period, period],
    ).pl()
    fig = go.Figure(
        [
            go.Bar(x=gaps["country"].to_list(), y=gaps["eu_cif_m"].to_list(), name="EU exports (CIF-adjusted)"),
            go.Bar(x=gaps["country"].to_list(), y=gaps["p_m"].to_list(), name="recorded by the partner"),
            go.Bar(x=gaps["country"].to_list(), y=gaps["gap_m"].to_list(), name="mirror gap"),
        ]
    )
    fig.update_layout(
        barmode="group",
        title=f"Mirror gap by country, 12 months to {period:%Y-%m}, million USD (covered months and codes only)",
    )
    return fig


def _chp_tiers(con: duckdb.DuckDBPyConnection) -> go.Figure:
    tiers = con.sql(
        """SELECT e.period, coalesce(e.chp_tier, 'not on the CHP list') AS tier,
                  sum(e.value_eur * fx.usd_per_eur) / 1e6 AS usd_m
           FROM marts.fct_eu_exports AS e
           JOIN marts.dim_fx_monthly AS fx USING (period)
           WHERE e.partner IN (SELECT DISTINCT reporter FROM marts.source_coverage WHERE source = 'comtrade')
             AND e.chp_tier IS NOT NULL
           GROUP BY ALL ORDER BY period, tier"""
    ).pl()
    fig = go.Figure(
        [
            go.Bar(x=rows["period"].to_list(), y=rows["usd_m"].to_list(), name=f"tier {tier}")
            for (tier,), rows in sorted(tiers.partition_by("tier", as_dict=True, maintain_order=True).items())
        ]
    )
    fig.update_layout(
        barmode="stack", title="EU exports of CHP-listed goods to the transit countries by tier, million USD"
    )
    return fig


def checks_by_table(passed: list[str], warned: list[str], tables: list[str]) -> pl.DataFrame:
    """One line per table: how many of its checks passed, and the warned ones named (dbt test ids name the model)."""

    def table_of(check: str) -> str:
        named = [t for t in tables if t in check]
        return max(named, key=len) if named else "other"

    rows: dict[str, dict] = {}
    for check, result in [(c, "passed") for c in passed] + [(c, "warned") for c in warned]:
        row = rows.setdefault(table_of(check), {"passed": 0, "warned": []})
        if result == "passed":
            row["passed"] += 1
        else:
            row["warned"].append(check)
    return pl.DataFrame(
        [
            {"table": t, "checks passed": r["passed"], "warned": ", ".join(r["warned"]) or "none"}
            for t, r in sorted(rows.items(), key=lambda item: (not item[1]["warned"], item[0]))
        ]
    )


class PeriodNotPublished(ValueError):
    pass


def build_report(warehouse: Path, out: Path, period: date | None = None) -> Path:
    """Write the report for `period` (default: the newest month) next to the publication."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        period = period or latest_period(con)
        publication = con.execute(
            """SELECT publication_id, published_at, months, checks_passed, checks_warned, source_files, coverage_gaps
               FROM marts.publication_log ORDER BY publication_id DESC LIMIT 1"""
        ).fetchall()[0]
        held = [m for (m,) in con.execute("SELECT DISTINCT period FROM marts.fct_eu_exports ORDER BY 1").fetchall()]
        if period not in held:
            raise PeriodNotPublished(
                f"{period:%Y-%m} is not in the publication at {warehouse} "
                f"(it holds {held[0]:%Y-%m} to {held[-1]:%Y-%m})"
                if held
                else f"the publication at {warehouse} holds no month"
            )
        tables = [
            t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()
        ]
        this_month = con.execute(
            """SELECT destination, sum(value_eur) AS eur, sum(baseline_value_eur) AS baseline_eur
               FROM marts.fct_unit_values WHERE period = ? AND destination <> 'CONTROL'
               GROUP BY destination ORDER BY destination""",
            [period],
        ).fetchall()
        ranked = con.sql(
            f"""SELECT rank_in_month, period, transit_country, product_key, chp_tier, is_export_restricted,
                       excess_basis, eu_excess_usd, transit_rise_usd, direct_fall_eur, persistence_months, score
                FROM marts.fct_circumvention_signals
                WHERE period = ? AND rank_in_month IS NOT NULL
                ORDER BY rank_in_month LIMIT {TOP_SIGNALS}""",
            params=[period],
        ).pl()
        signals = pl.DataFrame(
            {
                "rank": ranked["rank_in_month"],
                "score": ranked["score"],
                "why": pl.Series([signal_sentence(row) for row in ranked.iter_rows(named=True)], dtype=pl.String),
            }
        )
        substitution = con.sql(
            f"""SELECT year::VARCHAR AS year, product_key, chp_tier, is_export_restricted AS restricted,
                       months_compared AS months,
                       round(direct_fall_eur / 1e6, 2) AS direct_fall_eur_m,
                       round(transit_rise_eur / 1e6, 2) AS transit_rise_eur_m,
                       round(100 * substitution_ratio)::INTEGER AS substitution_pct,
                       largest_rise_transit_country AS main_transit_country
                FROM marts.fct_substitution
                WHERE year = (SELECT max(year) FROM marts.fct_substitution) AND substitution_ratio IS NOT NULL
                ORDER BY direct_fall_eur DESC, product_key LIMIT {TOP_PRODUCTS}"""
        ).pl()
        unrecorded = con.sql(
            """SELECT year::VARCHAR AS year, partner_country, product_keys_compared AS products,
                      months_compared AS months,
                      round(additional_eu_exports_usd / 1e6, 2) AS additional_eu_exports_usd_m,
                      round(additional_partner_imports_usd / 1e6, 2) AS additional_partner_imports_usd_m,
                      round(100 * unrecorded_share)::INTEGER AS unrecorded_pct,
                      unrecorded_null_reason AS note
               FROM marts.fct_unrecorded_exports_by_country ORDER BY year, partner_country"""
        ).pl()
        unit_values = con.sql(
            f"""WITH top AS (
                    SELECT product_key FROM marts.fct_unit_values
                    WHERE destination_kind = 'direct' AND period = ?
                    GROUP BY product_key ORDER BY sum(baseline_value_eur) DESC, product_key LIMIT {TOP_PRODUCTS}
                )
                SELECT u.product_key, u.destination_kind,
                       round(sum(u.value_eur) / 1e6, 2) AS eur_m,
                       round(sum(u.value_eur) / nullif(sum(u.quantity_kg), 0), 2) AS eur_per_kg,
                       round(sum(u.baseline_value_eur) / nullif(sum(u.baseline_quantity_kg), 0), 2)
                           AS baseline_eur_per_kg,
                       CASE WHEN sum(u.quantity_kg) = 0 OR sum(u.baseline_quantity_kg) = 0
                           THEN min(u.kg_null_reason) END AS note
                FROM marts.fct_unit_values AS u JOIN top USING (product_key)
                WHERE u.period = ? AND u.destination_kind IN ('direct', 'transit')
                GROUP BY ALL ORDER BY u.product_key, u.destination_kind""",
            params=[period, period],
        ).pl()
        synthetic = con.execute(
            """SELECT count(*) FROM marts.source_coverage
               WHERE source = 'comtrade' AND source_file LIKE '%synthetic%'"""
        ).fetchall()[0][0]
        coverage = con.sql(
            """SELECT source, strftime(max(period) FILTER (WHERE is_present), '%Y-%m') AS newest_month,
                      count(DISTINCT period) FILTER (WHERE is_present) AS months_present,
                      strftime(max(retrieved_at), '%Y-%m-%d %H:%M') AS last_retrieved,
                      date_diff('day', max(retrieved_at), now()) AS days_since_retrieval,
                      string_agg(DISTINCT CASE WHEN NOT is_present THEN reporter END, ', ') AS reporters_ever_missing
               FROM marts.source_coverage GROUP BY source ORDER BY source"""
        ).pl()
        routes = routes_section(con, period)
        figures = [
            _figure(_eu_exports_vs_baseline(con), "chart-eu-vs-baseline"),
            _figure(_mirror_gap(con, period), "chart-mirror-gap"),
            _figure(_chp_tiers(con), "chart-chp-tiers"),
        ]
    pub_id, published_at, months, passed, warned, files, gaps = publication
    vintages = (
        pl.DataFrame(files, infer_schema_length=None)
        .select("source", "period", "reporter", "file", "sha256")
        .with_columns(pl.col("period").dt.strftime("%Y-%m"))
        if files
        else pl.DataFrame()
    )
    checks = pl.DataFrame(
        [{"check": c, "result": "passed"} for c in passed] + [{"check": c, "result": "warned"} for c in warned]
    )
    warned_line = ", ".join(html.escape(c) for c in warned) if warned else "none"
    changes = "; ".join(
        f"{dest} {_money(eur, 'EUR')} ({(eur / baseline - 1) * 100:+.0f}% on the same month of the baseline)"
        if baseline
        else f"{dest} {_money(eur, 'EUR')} (no baseline)"
        for dest, eur, baseline in this_month
    )
    headline = signals["why"][0] if not signals.is_empty() else "No signal could be scored for this window."
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    banner = (
        '<p class="banner" id="synthetic-banner">SYNTHETIC DATA: the partner side (Comtrade) and the exchange '
        "rates in this publication come from the offline demo's local stand-in servers, not from the sources. "
        "Read them as an example of the method, never as facts.</p>"
        if synthetic
        else ""
    )
    body = f"""
<h1>mirror-trade: publication {pub_id}, report for {period:%Y-%m}</h1>
<p>Published {published_at:%Y-%m-%d %H:%M} UTC with {len(months)} months
({months[0]:%Y-%m} to {months[-1]:%Y-%m}).
Generated {generated} from <code>{html.escape(str(warehouse))}</code>. EU side: Eurostat Comext (FOB, EUR; USD at the
ECB monthly rate). Partner side: UN Comtrade, as reported (CIF imports). Gaps and signals are leads, not proof.</p>
{banner}
<h2>What changed in {period:%Y-%m}</h2>
<p id="this-month">EU exports in {period:%Y-%m}, against the same calendar month of the baseline years:
{html.escape(changes) or "no month after the baseline"}.</p>
<p>Strongest signal: {html.escape(headline)}</p>
<h2>Top circumvention signals, 12 months to {period:%Y-%m}</h2>
<p>score (thousands of USD) = least(EU excess over the counterfactual or matched baseline, rise of the transit
country's exports to Russia/Belarus over its matched baseline) x priority weight (CHP tier 1: 4, 2: 3, 3.A/3.B: 2,
4.A/4.B: 1.5, export-restricted or sanctions-debate goods: 1.25) x 1 if direct exports fell (else 0.5) x months
flagged / 12. Every input is a column of <code>marts.fct_circumvention_signals</code>.</p>
{_table(signals, "signals")}
<h2>Substitution: how much of the fall in direct exports reappeared in transit</h2>
<p>EUR, Comext only; each month against the same calendar month of the baseline years
(<code>marts.fct_substitution</code>). The products with the largest fall in direct exports to Russia/Belarus.</p>
{_table(substitution, "substitution")}
<h2>Additional EU exports not recorded as imports, by country and year</h2>
<p>USD (EU exports at the month's ECB rate x the CIF/FOB factor), over the products covered on both sides
(<code>marts.fct_unrecorded_exports_by_country</code>).</p>
{_table(unrecorded, "unrecorded")}
<h2>Unit values of the top products, {period:%Y-%m}</h2>
<p>EUR per kg of EU exports, direct (RU, BY) and through the transit countries, against the matched baseline
(<code>marts.fct_unit_values</code>).</p>
{_table(unit_values, "unit-values")}
{routes}
<h2>EU exports to the transit countries against the baseline</h2>{figures[0]}
<h2>Mirror gap by country</h2>{figures[1]}
<h2>CHP tiers</h2>{figures[2]}
<h2>Source coverage and staleness</h2>{_table(coverage, "coverage")}
<h2>Publication {pub_id}: vintages and checks</h2>
<p>{len(passed)} checks passed, {len(warned)} warned (non-blocking): {warned_line}; {len(gaps)} source-months with
missing reporters.</p>
{_table(checks_by_table(passed, warned, tables), "checks-by-table")}
<details><summary>Every check</summary>{_table(checks, "checks")}</details>
<details><summary>Vintages: the {len(vintages)} source files of this publication, with their sha256</summary>
{_table(vintages, "vintages")}</details>
"""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mirror-trade report {period:%Y-%m}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.85rem; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }}
th {{ background: #f3f3f3; }}
td {{ font-variant-numeric: tabular-nums; }}
.scroll {{ overflow-x: auto; max-width: 100%; }}
td {{ overflow-wrap: break-word; }}
#checks td, #vintages td, #checks-by-table td {{ word-break: break-all; }}
code {{ font-size: 0.85rem; }}
.banner {{ background: #fff3cd; border: 2px solid #b58900; padding: 0.75rem; font-weight: 600; }}
</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>{body}</body></html>
"""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
