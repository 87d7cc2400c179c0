"""The publication report: one self-contained HTML file (plotly.js and the data inlined, no network needed).

Sections: EU exports to each transit country against its pre-invasion baseline; the mirror gap by country; the top
circumvention signals with the columns that explain them; the CHP-tier breakdown; source coverage and staleness;
the publication's vintages and checks.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

TOP_SIGNALS = 20


def _cell(value: object) -> str:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _table(frame: pd.DataFrame, table_id: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
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
    monthly = con.execute(
        """WITH monthly AS (
               SELECT e.partner AS country, e.period, sum(e.value_eur * fx.usd_per_eur) / 1e6 AS usd_m
               FROM marts.fct_eu_exports AS e
               JOIN marts.dim_fx_monthly AS fx USING (period)
               WHERE e.partner IN (SELECT DISTINCT reporter FROM marts.source_coverage WHERE source = 'comtrade')
               GROUP BY ALL
           ),
           baseline AS (SELECT DISTINCT baseline_start, baseline_end FROM marts.fct_transit_to_russia)
           SELECT m.country, m.period, m.usd_m,
                  avg(m.usd_m) FILTER (WHERE m.period BETWEEN w.baseline_start AND w.baseline_end)
                      OVER (PARTITION BY m.country) AS baseline_m,
                  count(*) FILTER (WHERE m.period BETWEEN w.baseline_start AND w.baseline_end)
                      OVER (PARTITION BY m.country) AS baseline_months
           FROM monthly AS m CROSS JOIN baseline AS w
           ORDER BY m.country, m.period"""
    ).df()
    fig = go.Figure()
    palette = plotly.colors.qualitative.Plotly
    for i, (country, rows) in enumerate(monthly.groupby("country")):
        color = palette[i % len(palette)]
        fig.add_trace(
            go.Scatter(
                x=rows["period"],
                y=rows["usd_m"],
                mode="lines+markers",
                name=country,
                legendgroup=country,
                line={"color": color},
            )
        )
        baseline, months = rows["baseline_m"].iloc[0], rows["baseline_months"].iloc[0]
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
    gaps = con.execute(
        """SELECT partner_country AS country, sum(mirror_gap_usd) / 1e6 AS gap_m,
                  sum(eu_exports_usd * cif_fob_factor) / 1e6 AS eu_cif_m, sum(partner_imports_from_eu_usd) / 1e6 AS p_m
           FROM marts.fct_mirror_flows
           WHERE coverage_flag = 'complete' AND period BETWEEN ? - INTERVAL 11 MONTH AND ?
           GROUP BY 1 ORDER BY gap_m DESC""",
        [period, period],
    ).df()
    fig = go.Figure(
        [
            go.Bar(x=gaps["country"], y=gaps["eu_cif_m"], name="EU exports (CIF-adjusted)"),
            go.Bar(x=gaps["country"], y=gaps["p_m"], name="recorded by the partner"),
            go.Bar(x=gaps["country"], y=gaps["gap_m"], name="mirror gap"),
        ]
    )
    fig.update_layout(
        barmode="group",
        title=f"Mirror gap by country, 12 months to {period:%Y-%m}, million USD (covered months and codes only)",
    )
    return fig


def _chp_tiers(con: duckdb.DuckDBPyConnection) -> go.Figure:
    tiers = con.execute(
        """SELECT e.period, coalesce(e.chp_tier, 'not on the CHP list') AS tier, sum(e.value_eur) / 1e6 AS eur_m
           FROM marts.fct_eu_exports AS e
           WHERE e.partner IN (SELECT DISTINCT reporter FROM marts.source_coverage WHERE source = 'comtrade')
             AND e.chp_tier IS NOT NULL
           GROUP BY ALL ORDER BY period, tier"""
    ).df()
    fig = go.Figure(
        [go.Bar(x=rows["period"], y=rows["eur_m"], name=f"tier {tier}") for tier, rows in tiers.groupby("tier")]
    )
    fig.update_layout(
        barmode="stack", title="EU exports of CHP-listed goods to the transit countries by tier, million EUR"
    )
    return fig


def build_report(warehouse: Path, out: Path, period: date | None = None) -> Path:
    """Write the report for `period` (default: the newest month) next to the publication."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        period = period or latest_period(con)
        publication = con.execute(
            """SELECT publication_id, published_at, months, checks_passed, checks_warned, source_files, coverage_gaps
               FROM marts.publication_log ORDER BY publication_id DESC LIMIT 1"""
        ).fetchall()[0]
        signals = con.execute(
            f"""SELECT rank_in_month AS rank, transit_country, hs6, chp_tier, product_group,
                       round(eu_exports_usd)::BIGINT AS eu_exports_usd,
                       round(baseline_eu_exports_usd)::BIGINT AS eu_baseline_usd,
                       round(transit_to_russia_belarus_usd)::BIGINT AS to_ru_by_usd,
                       round(baseline_transit_to_russia_belarus_usd)::BIGINT AS to_ru_by_baseline_usd,
                       round(matched_excess_usd)::BIGINT AS matched_excess_usd, priority_weight, score
                FROM marts.fct_circumvention_signals
                WHERE period = ? AND rank_in_month IS NOT NULL
                ORDER BY rank_in_month LIMIT {TOP_SIGNALS}""",
            [period],
        ).df()
        coverage = con.execute(
            """SELECT source, strftime(max(period) FILTER (WHERE is_present), '%Y-%m') AS newest_month,
                      count(DISTINCT period) FILTER (WHERE is_present) AS months_present,
                      strftime(max(retrieved_at), '%Y-%m-%d %H:%M') AS last_retrieved,
                      date_diff('day', max(retrieved_at), now()) AS days_since_retrieval,
                      string_agg(DISTINCT CASE WHEN NOT is_present THEN reporter END, ', ') AS reporters_ever_missing
               FROM marts.source_coverage GROUP BY source ORDER BY source"""
        ).df()
        figures = [
            _figure(_eu_exports_vs_baseline(con), "chart-eu-vs-baseline"),
            _figure(_mirror_gap(con, period), "chart-mirror-gap"),
            _figure(_chp_tiers(con), "chart-chp-tiers"),
        ]
    pub_id, published_at, months, passed, warned, files, gaps = publication
    vintages = pd.DataFrame(files)[["source", "period", "reporter", "file", "sha256"]] if files else pd.DataFrame()
    if not vintages.empty:
        vintages["period"] = vintages["period"].map(lambda d: d.strftime("%Y-%m"))
    checks = pd.DataFrame(
        [{"check": c, "result": "passed"} for c in passed] + [{"check": c, "result": "warned"} for c in warned]
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = f"""
<h1>mirror-trade: publication {pub_id}, report for {period:%Y-%m}</h1>
<p>Published {published_at:%Y-%m-%d %H:%M} UTC with {len(months)} months
({months[0]:%Y-%m} to {months[-1]:%Y-%m}).
Generated {generated} from <code>{html.escape(str(warehouse))}</code>. EU side: Eurostat Comext (FOB, EUR; USD at the
ECB monthly rate). Partner side: UN Comtrade, as reported (CIF imports). Gaps and signals are leads, not proof.</p>
<h2>EU exports to the transit countries against the baseline</h2>{figures[0]}
<h2>Mirror gap by country</h2>{figures[1]}
<h2>Top circumvention signals, {period:%Y-%m}</h2>
<p>score = least(EU excess over baseline, transit excess over baseline) x priority weight / 1000
(weights: CHP tier 1: 4, tier 2: 3, tiers 3.A/3.B: 2, tiers 4.A/4.B: 1.5,
goods named in the sanctions debate: 1.25).</p>
{_table(signals, "signals")}
<h2>CHP tiers</h2>{figures[2]}
<h2>Source coverage and staleness</h2>{_table(coverage, "coverage")}
<h2>Publication {pub_id}: vintages and checks</h2>
<p>{len(passed)} checks passed, {len(warned)} warned (non-blocking); {len(gaps)} source-months with missing
reporters.</p>
{_table(checks, "checks")}
{_table(vintages, "vintages")}
"""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mirror-trade report {period:%Y-%m}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.85rem; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }}
th {{ background: #f3f3f3; }}
td {{ font-variant-numeric: tabular-nums; }}
.scroll {{ overflow-x: auto; }}
code {{ font-size: 0.85rem; }}
</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>{body}</body></html>
"""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
