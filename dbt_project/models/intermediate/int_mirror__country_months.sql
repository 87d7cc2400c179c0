-- For each watched partner country and month: is each side of the mirror there? The EU side needs the Comext
-- month and the month's ECB rate; the partner side needs the country to have released the month (Comtrade getDa)
-- and tells which products were fetched (the keyless preview fetches the watched products only).
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
    select period, reporter as country, arg_max(products, retrieved_at) as products
    from {{ ref('stg_comtrade__availability') }}
    group by period, reporter
)

select
    m.period,
    w.country,
    c.period is not null as eu_month_loaded,
    fx.usd_per_eur,
    coalesce(p.is_present, false) as partner_released,
    f.products as partner_products
from months as m
cross join watched as w
left join comext_months as c on m.period = c.period
left join {{ ref('dim_fx_monthly') }} as fx on m.period = fx.period
left join partner_months as p on m.period = p.period and w.country = p.country
left join fetched as f on m.period = f.period and w.country = f.country
