-- A table, not a view: the mirror marts read it three times, and each read of the view would scan the whole
-- history of fct_eu_exports again.
{{ config(materialized='table') }}

-- Both sides of the mirror per (period, partner country, hs6), with what the partner sent on to Russia and
-- Belarus, and whether each side is covered. A missing row on a covered side is a real zero; an uncovered side
-- is NULL, never zero.
with watched as (
    select distinct country from {{ ref('int_mirror__country_months') }}
),

eu as (
    select e.period, e.partner as country, e.hs6, min(e.hs_edition) as hs_edition, sum(e.value_eur) as eu_exports_eur
    from {{ ref('fct_eu_exports') }} as e
    inner join watched as w on e.partner = w.country
    where e.hs6 is not null and {{ in_read_months('e.period') }}
    group by e.period, e.partner, e.hs6
),

partner as (
    select
        t.period,
        t.reporter as country,
        t.hs_code as hs6,
        min(t.classification) as classification,
        sum(t.value_usd) filter (where t.flow = 'M' and cc.iso2 is not null) as imports_from_eu_usd,
        sum(t.value_usd) filter (where t.flow = 'X' and t.partner = 'RU') as exports_to_russia_usd,
        sum(t.value_usd) filter (where t.flow = 'RX' and t.partner = 'RU') as reexports_to_russia_usd,
        sum(t.value_usd) filter (where t.flow = 'X' and t.partner = 'BY') as exports_to_belarus_usd,
        sum(t.value_usd) filter (where t.flow = 'RX' and t.partner = 'BY') as reexports_to_belarus_usd
    from {{ ref('fct_partner_trade') }} as t
    left join {{ ref('country_codes') }} as cc
        on t.partner = cc.iso2
        and cc.eu_member_from <= t.period
        and (cc.eu_member_to is null or cc.eu_member_to >= t.period)
    where t.hs_level = 6 and {{ in_read_months('t.period') }}
    group by t.period, t.reporter, t.hs_code
),

keys as (
    select period, country, hs6 from eu
    union
    select period, country, hs6 from partner
),

sides as (
    select
        k.period,
        k.country,
        k.hs6,
        case
            when k.period < date '2022-01-01' then 'HS2017'
            when k.period < date '2028-01-01' then 'HS2022'
            else 'HS2028'
        end as hs_edition,
        p.classification as partner_classification,
        cm.usd_per_eur,
        cm.eu_month_loaded,
        cm.eu_month_loaded and cm.usd_per_eur is not null as eu_covered,
        cm.partner_released
            and ({{ array_contains('cm.partner_products', "'AG6'") }} or {{ array_contains('cm.partner_products', 'k.hs6') }}) as partner_covered,
        case
            when not cm.eu_month_loaded then 'eu_month_missing'
            when cm.usd_per_eur is null then 'no_fx_rate'
            when not cm.partner_released then 'partner_not_released'
            when not ({{ array_contains('cm.partner_products', "'AG6'") }} or {{ array_contains('cm.partner_products', 'k.hs6') }})
                then 'partner_code_not_fetched'
            else 'complete'
        end as coverage_flag,
        coalesce(e.eu_exports_eur, 0) as eu_exports_eur,
        p.imports_from_eu_usd,
        p.exports_to_russia_usd,
        p.reexports_to_russia_usd,
        p.exports_to_belarus_usd,
        p.reexports_to_belarus_usd
    from keys as k
    inner join {{ ref('int_mirror__country_months') }} as cm on k.period = cm.period and k.country = cm.country
    left join eu as e on k.period = e.period and k.country = e.country and k.hs6 = e.hs6
    left join partner as p on k.period = p.period and k.country = p.country and k.hs6 = p.hs6
)

select
    period,
    country,
    hs6,
    hs_edition,
    partner_classification,
    usd_per_eur,
    eu_covered,
    partner_covered,
    coverage_flag,
    -- EUR needs only the Comext month; USD needs the month's ECB rate too
    case when eu_month_loaded then eu_exports_eur end as eu_exports_eur,
    case when eu_covered then round(eu_exports_eur * usd_per_eur, 2) end as eu_exports_usd,
    case when partner_covered then coalesce(imports_from_eu_usd, 0) end as partner_imports_from_eu_usd,
    case when partner_covered then coalesce(exports_to_russia_usd, 0) end as exports_to_russia_usd,
    case when partner_covered then coalesce(reexports_to_russia_usd, 0) end as reexports_to_russia_usd,
    case when partner_covered then coalesce(exports_to_belarus_usd, 0) end as exports_to_belarus_usd,
    case when partner_covered then coalesce(reexports_to_belarus_usd, 0) end as reexports_to_belarus_usd
from sides
