{{ config(**months_replaced_whole(unique_key='period')) }}
-- EU exports (Comext, EUR, FOB, the 27 members summed) per (period, destination, product key): the input of every
-- EU-side research measure, small enough to rebuild the measures from each run (about 40 thousand rows a month
-- against 1.6 million in fct_eu_exports). Months are replaced whole, like fct_eu_exports; a change of the var
-- transit_countries needs a full rebuild (`dbt build --full-refresh`).
-- Destinations: RU and BY (direct), each transit country (var transit_countries), and CONTROL: every other extra-EU
-- country (reference.country_codes code_kind = 'country'; special and territory codes are left out), the control
-- group of the counterfactual.
{% set transit = var('transit_countries') %}
with exports as (
    select
        e.period,
        case
            when e.partner in ('RU', 'BY') then e.partner
            when e.partner in ({{ "'" + transit | join("', '") + "'" }}) then e.partner
            else 'CONTROL'
        end as destination,
        e.partner,
        coalesce(e.product_key, e.hs6) as product_key,
        e.value_eur,
        e.quantity_kg,
        e.suppl_unit,
        e.quantity_suppl_unit
    from {{ ref('fct_eu_exports') }} as e
    left join {{ ref('country_codes') }} as cc on e.partner = cc.iso2
    where e.hs6 is not null
      and {{ in_run_window('e.period') }}
      and (e.partner in ('RU', 'BY') or e.partner in ({{ "'" + transit | join("', '") + "'" }}) or cc.code_kind = 'country')
)

select
    period,
    destination,
    product_key,
    sum(value_eur) as value_eur,
    sum(quantity_kg) as quantity_kg,
    -- one supplementary unit for the whole product key, else no per-unit value
    case when count(distinct coalesce(suppl_unit, '-')) = 1 then min(suppl_unit) end as suppl_unit,
    case when count(distinct coalesce(suppl_unit, '-')) = 1 then sum(quantity_suppl_unit) end as quantity_suppl_unit,
    count(distinct partner) as partners
from exports
group by period, destination, product_key
