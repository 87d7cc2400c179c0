-- What the EU sent a transit country against what that country sent on to Russia and Belarus, per HS6 and
-- month, each compared with the country's pre-invasion baseline.
-- Baseline (vars baseline_start..baseline_end, default 2019-01..2021-12): the monthly average over the baseline
-- months the warehouse covers for that side and country (a covered month without a row counts as zero); the
-- months used are stated (baseline_*_months, baseline_first/last_month).
--   transit_to_russia_belarus_usd = exports + re-exports to RU and BY, as the transit country reported them
--   onward_to_eu_exports_ratio           = transit_to_russia_belarus_usd / eu_exports_usd
--   eu_exports_vs_baseline        = eu_exports_usd / baseline_eu_exports_usd
--   transit_vs_baseline           = transit_to_russia_belarus_usd / baseline_transit_to_russia_belarus_usd
{{ config(**rebuilt_by('period')) }}
with sides as (
    select
        *,
        exports_to_russia_usd + reexports_to_russia_usd + exports_to_belarus_usd + reexports_to_belarus_usd
            as transit_to_russia_belarus_usd
    from {{ ref('int_mirror__monthly_sides') }}
    where country in ({{ "'" + var('transit_countries') | join("', '") + "'" }})
),

baseline_months as (
    select
        country,
        count(*) filter (where eu_month_loaded and usd_per_eur is not null) as eu_months,
        count(*) filter (where partner_released) as partner_months,
        min(period) filter (where (eu_month_loaded and usd_per_eur is not null) or partner_released) as first_month,
        max(period) filter (where (eu_month_loaded and usd_per_eur is not null) or partner_released) as last_month
    from {{ ref('int_mirror__country_months') }}
    where period between cast('{{ var("baseline_start") }}' as date) and cast('{{ var("baseline_end") }}' as date)
    group by country
),

baseline_sums as (
    select
        country,
        hs6,
        sum(eu_exports_usd) as eu_exports_usd,
        sum(transit_to_russia_belarus_usd) as transit_usd
    from sides
    where period between cast('{{ var("baseline_start") }}' as date) and cast('{{ var("baseline_end") }}' as date)
    group by country, hs6
),

flows as (
    select
        s.*,
        bm.eu_months as baseline_eu_months,
        bm.partner_months as baseline_partner_months,
        bm.first_month as baseline_first_month,
        bm.last_month as baseline_last_month,
        case when bm.eu_months > 0
            then cast(round(coalesce(bs.eu_exports_usd, 0) / bm.eu_months, 2) as decimal(38, 2))
        end as baseline_eu_exports_usd,
        case when bm.partner_months > 0
            then cast(round(coalesce(bs.transit_usd, 0) / bm.partner_months, 2) as decimal(38, 2))
        end as baseline_transit_to_russia_belarus_usd
    from sides as s
    left join baseline_months as bm on s.country = bm.country
    left join baseline_sums as bs on s.country = bs.country and s.hs6 = bs.hs6
    where (coalesce(s.eu_exports_eur, 0) <> 0 or coalesce(s.transit_to_russia_belarus_usd, 0) <> 0)
      and {{ in_rebuilt_months('s.period') }}
)

select
    period,
    country as transit_country,
    flows.hs6,
    flows.hs_edition,
    pf.product_key,
    pf.chp_tier,
    pf.is_export_restricted,
    coverage_flag,
    eu_exports_usd,
    exports_to_russia_usd,
    reexports_to_russia_usd,
    exports_to_belarus_usd,
    reexports_to_belarus_usd,
    transit_to_russia_belarus_usd,
    case when eu_covered and partner_covered and eu_exports_usd > 0
        then round(transit_to_russia_belarus_usd / eu_exports_usd, 6)
    end as onward_to_eu_exports_ratio,
    case
        when not (eu_covered and partner_covered) then 'coverage: ' || coverage_flag
        when eu_exports_usd = 0 then 'no EU exports in the month'
    end as ratio_null_reason,
    cast('{{ var("baseline_start") }}' as date) as baseline_window_start,
    cast('{{ var("baseline_end") }}' as date) as baseline_window_end,
    baseline_first_month,
    baseline_last_month,
    baseline_eu_months,
    baseline_partner_months,
    baseline_eu_exports_usd,
    baseline_transit_to_russia_belarus_usd,
    case when eu_covered and baseline_eu_exports_usd > 0
        then round(eu_exports_usd / baseline_eu_exports_usd, 6)
    end as eu_exports_vs_baseline,
    case when partner_covered and baseline_transit_to_russia_belarus_usd > 0
        then round(transit_to_russia_belarus_usd / baseline_transit_to_russia_belarus_usd, 6)
    end as transit_vs_baseline
from flows
left join {{ ref('int_reference__product_flags') }} as pf
    on flows.hs_edition = pf.hs_edition and flows.hs6 = pf.hs6
