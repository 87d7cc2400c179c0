-- EU exports to a partner country against what that country recorded importing from the EU, per HS6 and month.
-- Formulas (vars in dbt_project.yml):
--   eu_exports_usd              = eu_exports_eur * usd_per_eur of the month (ECB), rounded to the cent
--   mirror_gap_usd              = round(eu_exports_usd * cif_fob_factor, 2) - partner_imports_from_eu_usd
--   mirror_ratio                = partner_imports_from_eu_usd / (eu_exports_usd * cif_fob_factor)
--   *_window                    = the same over the months t - mirror_lag_months .. t (rolling sums), shown only
--                                 when every month of the window is covered on both sides
{% set lag = var('mirror_lag_months') | int %}
{{ config(**rebuilt_by('period', reach_months=lag, uses_baseline=false)) }}
{% set factor = var('cif_fob_factor') %}
with sides as (
    select * from {{ ref('int_mirror__monthly_sides') }}
    where (coalesce(eu_exports_eur, 0) <> 0 or coalesce(partner_imports_from_eu_usd, 0) <> 0)
      and {{ in_rebuilt_months('period', lag, false) }}
),

window_months as (
    -- how many months of each key's window are covered on both sides, per the country's coverage
    select
        s.period,
        s.country,
        s.hs6,
        count(*) filter (
            where cm.eu_month_loaded and cm.usd_per_eur is not null and cm.partner_released
            and ({{ array_contains('cm.partner_products', "'AG6'") }} or {{ array_contains('cm.partner_products', 's.hs6') }})
        ) as covered_months
    from sides as s
    inner join {{ ref('int_mirror__country_months') }} as cm
        on s.country = cm.country
        and cm.period between s.period - interval {{ lag }} month and s.period
    group by s.period, s.country, s.hs6
),

window_sums as (
    select
        s.period,
        s.country,
        s.hs6,
        sum(m.eu_exports_usd) as eu_exports_usd_window,
        sum(m.partner_imports_from_eu_usd) as partner_imports_from_eu_usd_window
    from sides as s
    inner join {{ ref('int_mirror__monthly_sides') }} as m
        on s.country = m.country
        and s.hs6 = m.hs6
        and m.period between s.period - interval {{ lag }} month and s.period
    group by s.period, s.country, s.hs6
),

flows as (
    select
        s.*,
        cast({{ factor }} as decimal(6, 4)) as cif_fob_factor,
        w.covered_months = {{ lag + 1 }} as window_covered,
        ws.eu_exports_usd_window,
        ws.partner_imports_from_eu_usd_window
    from sides as s
    inner join window_months as w using (period, country, hs6)
    inner join window_sums as ws using (period, country, hs6)
)

select
    period,
    country as partner_country,
    flows.hs6,
    flows.hs_edition,
    pf.product_key,
    pf.chp_tier,
    pf.is_export_restricted,
    partner_classification,
    coverage_flag,
    eu_exports_eur,
    usd_per_eur,
    eu_exports_usd,
    partner_imports_from_eu_usd,
    cif_fob_factor,
    case when coverage_flag = 'complete'
        then round(eu_exports_usd * cif_fob_factor, 2) - partner_imports_from_eu_usd
    end as mirror_gap_usd,
    case when coverage_flag = 'complete' and eu_exports_usd > 0
        then round(partner_imports_from_eu_usd / (eu_exports_usd * cif_fob_factor), 6)
    end as mirror_ratio,
    case
        when coverage_flag <> 'complete' then 'coverage: ' || coverage_flag
        when eu_exports_usd = 0 then 'no EU exports in the month'
    end as ratio_null_reason,
    {{ lag + 1 }} as window_months,
    case when window_covered then eu_exports_usd_window end as eu_exports_usd_window,
    case when window_covered then partner_imports_from_eu_usd_window end as partner_imports_from_eu_usd_window,
    case when window_covered
        then round(eu_exports_usd_window * cif_fob_factor, 2) - partner_imports_from_eu_usd_window
    end as mirror_gap_usd_window,
    case when window_covered and eu_exports_usd_window > 0
        then round(partner_imports_from_eu_usd_window / (eu_exports_usd_window * cif_fob_factor), 6)
    end as mirror_ratio_window,
    case
        when not window_covered then 'window not covered on both sides for all {{ lag + 1 }} months'
        when eu_exports_usd_window = 0 then 'no EU exports in the window'
    end as window_ratio_null_reason
from flows
left join {{ ref('int_reference__product_flags') }} as pf
    on flows.hs_edition = pf.hs_edition and flows.hs6 = pf.hs6
