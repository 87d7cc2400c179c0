{{ config(materialized='table') }}
-- EU exports (marts.fct_eu_exports_by_destination: EUR, FOB, the 27 members summed) per (month after the baseline,
-- destination, product key), with the matched baseline of every measure. Destinations: RU, BY, each transit country
-- (var transit_countries) and CONTROL (every other extra-EU country), the control group of the counterfactual.
-- A month is compared only when at least one baseline year covers its calendar month.
--   baseline_<m> = sum of <m> over the covered baseline months of the same calendar month / baseline_years,
--                  rounded to the cent (kg and units to 3 decimals); a covered month without a row is zero.
{% set transit = var('transit_countries') %}
with monthly as (
    select * from {{ ref('fct_eu_exports_by_destination') }}
    where {{ in_read_months('period') }}
),

destinations as (
    select 'RU' as destination
    union all select 'BY'
    union all select 'CONTROL'
    {% for c in transit %}union all select '{{ c }}'
    {% endfor %}
),

coverage as (
    select m.period, d.destination, m.covered
    from {{ ref('int_measures__comext_months') }} as m
    cross join destinations as d
    where {{ in_read_months('m.period') }}
),

baseline_months as (
    {{ matched_baseline_months('coverage', ['destination']) }}
),

baseline_sums as (
    {{ matched_baseline_sums('monthly', 'coverage', ['destination'], ['product_key'],
                             ['value_eur', 'quantity_kg', 'quantity_suppl_unit']) }}
),

baseline_units as (
    select
        m.destination,
        m.product_key,
        month(m.period) as calendar_month,
        case when count(distinct coalesce(m.suppl_unit, '-')) = 1 then min(m.suppl_unit) end as suppl_unit
    from monthly as m
    where {{ in_baseline('m.period') }}
    group by m.destination, m.product_key, month(m.period)
),

compared as (
    select c.period, c.destination, bm.baseline_years, bm.baseline_periods
    from coverage as c
    inner join baseline_months as bm on c.destination = bm.destination and month(c.period) = bm.calendar_month
    where c.covered and {{ after_baseline('c.period') }}
),

keys as (
    select c.period, c.destination, m.product_key
    from compared as c
    inner join monthly as m on c.period = m.period and c.destination = m.destination
    union
    select c.period, c.destination, bs.product_key
    from compared as c
    inner join baseline_sums as bs on c.destination = bs.destination and month(c.period) = bs.calendar_month
)

select
    k.period,
    k.destination,
    k.product_key,
    c.baseline_years,
    c.baseline_periods,
    coalesce(m.value_eur, 0) as value_eur,
    {{ matched_baseline_value('bs.value_eur_baseline_sum', 'c.baseline_years') }} as baseline_value_eur,
    coalesce(m.quantity_kg, 0) as quantity_kg,
    round(coalesce(bs.quantity_kg_baseline_sum, 0) / c.baseline_years, 3) as baseline_quantity_kg,
    m.suppl_unit,
    m.quantity_suppl_unit,
    bu.suppl_unit as baseline_suppl_unit,
    case when bu.suppl_unit is not null
        then round(coalesce(bs.quantity_suppl_unit_baseline_sum, 0) / c.baseline_years, 3)
    end as baseline_quantity_suppl_unit,
    coalesce(m.partners, 0) as partners
from keys as k
inner join compared as c on k.period = c.period and k.destination = c.destination
left join monthly as m on k.period = m.period and k.destination = m.destination and k.product_key = m.product_key
left join baseline_sums as bs
    on k.destination = bs.destination and k.product_key = bs.product_key and month(k.period) = bs.calendar_month
left join baseline_units as bu
    on k.destination = bu.destination and k.product_key = bu.product_key and month(k.period) = bu.calendar_month
