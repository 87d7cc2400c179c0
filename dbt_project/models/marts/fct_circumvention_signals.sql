-- Where EU exports to a transit country rose above the pre-invasion baseline while that country's exports to
-- Russia and Belarus of the same HS6 code rose too. The score, in thousands of USD, is transparent:
--   eu_excess_usd      = greatest(eu_exports_usd - baseline_eu_exports_usd, 0)
--   transit_excess_usd = greatest(transit_to_russia_belarus_usd - baseline_transit_to_russia_belarus_usd, 0)
--   matched_excess_usd = least(eu_excess_usd, transit_excess_usd)   -- what could have passed through
--   priority_weight    = 4 (CHP tier 1), 3 (tier 2), 2 (tiers 3.A/3.B), 1.5 (tiers 4.A/4.B),
--                        1.25 (other goods named in the sanctions debate), 1 (anything else)
--   score              = round(matched_excess_usd * priority_weight / 1000, 3)
-- Rows without both sides covered, or without a baseline, get no score (score_null_reason says why).
with transit as (
    select * from {{ ref('fct_transit_to_russia') }}
),

scored as (
    select
        t.period,
        t.transit_country,
        t.hs6,
        t.hs_edition,
        w.chp_tier,
        w.chp_match,
        g.product_group,
        t.coverage_flag,
        t.eu_exports_usd,
        t.baseline_eu_exports_usd,
        t.transit_to_russia_belarus_usd,
        t.baseline_transit_to_russia_belarus_usd,
        t.baseline_first_month,
        t.baseline_last_month,
        case
            when w.chp_tier = '1' then 4.0
            when w.chp_tier = '2' then 3.0
            when w.chp_tier in ('3.A', '3.B') then 2.0
            when w.chp_tier in ('4.A', '4.B') then 1.5
            when g.product_group is not null then 1.25
            else 1.0
        end::decimal(4, 2) as priority_weight,
        -- greatest() skips NULLs in DuckDB: an uncovered side must stay NULL, not become a zero excess
        case when t.eu_exports_usd is not null and t.baseline_eu_exports_usd is not null
            then greatest(t.eu_exports_usd - t.baseline_eu_exports_usd, cast(0 as decimal(38, 2)))
        end as eu_excess_usd,
        case when t.transit_to_russia_belarus_usd is not null and t.baseline_transit_to_russia_belarus_usd is not null
            then greatest(
                t.transit_to_russia_belarus_usd - t.baseline_transit_to_russia_belarus_usd, cast(0 as decimal(38, 2))
            )
        end as transit_excess_usd,
        case
            when t.coverage_flag <> 'complete' then 'coverage: ' || t.coverage_flag
            when t.baseline_eu_exports_usd is null then 'no EU-side baseline months'
            when t.baseline_transit_to_russia_belarus_usd is null then 'no partner-side baseline months'
        end as score_null_reason
    from transit as t
    left join {{ ref('int_reference__watched_hs6') }} as w on t.hs_edition = w.hs_edition and t.hs6 = w.hs6
    left join {{ ref('sanctions_debate_goods') }} as g on left(t.hs6, 4) = g.hs4
)

select
    *,
    case when score_null_reason is null then least(eu_excess_usd, transit_excess_usd) end as matched_excess_usd,
    case when score_null_reason is null
        then cast(round(least(eu_excess_usd, transit_excess_usd) * priority_weight / 1000, 3) as decimal(38, 3))
    end as score,
    case when score_null_reason is null and least(eu_excess_usd, transit_excess_usd) > 0
        then rank() over (
            partition by period, score_null_reason is null and least(eu_excess_usd, transit_excess_usd) > 0
            order by least(eu_excess_usd, transit_excess_usd) * priority_weight desc, transit_country, hs6
        )
    end as rank_in_month
from scored
