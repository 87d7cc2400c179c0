-- For each watched partner country and month: is each side of the mirror there? The EU side needs the Comext
-- month and the month's ECB rate; the partner side needs the country to have released the month (Comtrade getDa)
-- and tells which products and partners were fetched (the keyless preview fetches the watched products only).
with watched as (
    select distinct reporter as country
    from {{ ref('source_coverage') }}
    where source = 'comtrade'
),

months as (
    select distinct period from {{ ref('source_coverage') }}
),

comext_months as (
    select distinct period from {{ ref('source_coverage') }} where source = 'comext' and is_present
),

partner_months as (
    select period, reporter as country, is_present
    from {{ ref('source_coverage') }}
    where source = 'comtrade'
),

fetched as (
    select
        period,
        reporter as country,
        max_by(products, retrieved_at) as products,
        max_by(partner_m49s, retrieved_at) as partner_m49s
    from {{ ref('stg_comtrade__availability') }}
    group by period, reporter
),

codes as (
    select comtrade_m49, iso2 from {{ ref('country_codes') }} where comtrade_m49 is not null
    union all
    select comtrade_m49, iso2 from {{ ref('comtrade_code_aliases') }}
),

-- The partners fetched as ISO alpha-2, to compare with fct_partner_trade's partner (NULL stays NULL: unknown).
counterparts as (
    select f.period, f.country, {{ sorted_array_agg('c.iso2', distinct=true, where='c.iso2 is not null') }} as counterparts
    from fetched as f
    left join codes as c on {{ array_contains('f.partner_m49s', 'c.comtrade_m49') }}
    where f.partner_m49s is not null
    group by f.period, f.country
)

select
    m.period,
    w.country,
    c.period is not null as eu_month_loaded,
    fx.usd_per_eur,
    coalesce(p.is_present, false) as partner_released,
    f.products as partner_products,
    case when f.partner_m49s is not null then coalesce(cp.counterparts, {{ array_literal([]) }}) end as partner_counterparts
from months as m
cross join watched as w
left join comext_months as c on m.period = c.period
left join {{ ref('dim_fx_monthly') }} as fx on m.period = fx.period
left join partner_months as p on m.period = p.period and w.country = p.country
left join fetched as f on m.period = f.period and w.country = f.country
left join counterparts as cp on m.period = cp.period and w.country = cp.country
