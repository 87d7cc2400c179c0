-- Unit values of EU exports per (month after the baseline, destination, product key): EUR per kg and, where the
-- product key has one supplementary unit (pieces, pairs, litres...), EUR per unit, against the matched baseline
-- (the same calendar month of the baseline years: baseline value / baseline quantity). Destinations RU and BY
-- (direct), the transit countries, and CONTROL (every other extra-EU country). Comext, EUR, FOB.
--   eur_per_kg          = value_eur / quantity_kg                 (NULL when the quantity is zero or missing)
--   baseline_eur_per_kg = baseline_value_eur / baseline_quantity_kg
--   eur_per_kg_vs_baseline = eur_per_kg / baseline_eur_per_kg
{{ config(**rebuilt_by('period')) }}
with months as (
    select * from {{ ref('int_measures__eu_destination_months') }}
    where (value_eur <> 0 or baseline_value_eur <> 0) and {{ in_rebuilt_months('period') }}
)

select
    m.period,
    m.destination,
    case
        when m.destination in ('RU', 'BY') then 'direct'
        when m.destination = 'CONTROL' then 'control'
        else 'transit'
    end as destination_kind,
    m.product_key,
    p.product_key_kind,
    p.chp_tier,
    p.is_export_restricted,
    p.product_group,
    m.baseline_years,
    m.baseline_periods,
    m.value_eur,
    m.quantity_kg,
    m.baseline_value_eur,
    m.baseline_quantity_kg,
    case when m.quantity_kg > 0 then round(m.value_eur / m.quantity_kg, 4) end as eur_per_kg,
    case when m.baseline_quantity_kg > 0 then round(m.baseline_value_eur / m.baseline_quantity_kg, 4) end
        as baseline_eur_per_kg,
    case when m.quantity_kg > 0 and m.baseline_quantity_kg > 0 and m.baseline_value_eur > 0
        then round((m.value_eur / m.quantity_kg) / (m.baseline_value_eur / m.baseline_quantity_kg), 6)
    end as eur_per_kg_vs_baseline,
    case
        when m.value_eur = 0 then 'no exports in the month'
        when coalesce(m.quantity_kg, 0) = 0 then 'no quantity (kg) reported for the month'
        when coalesce(m.baseline_quantity_kg, 0) = 0 or m.baseline_value_eur = 0
            then 'no baseline exports with a quantity (kg)'
    end as kg_null_reason,
    m.suppl_unit,
    m.quantity_suppl_unit,
    m.baseline_quantity_suppl_unit,
    case when m.suppl_unit is not null and m.quantity_suppl_unit > 0
        then round(m.value_eur / m.quantity_suppl_unit, 4)
    end as eur_per_suppl_unit,
    case when m.suppl_unit is not null and m.suppl_unit = m.baseline_suppl_unit and m.baseline_quantity_suppl_unit > 0
        then round(m.baseline_value_eur / m.baseline_quantity_suppl_unit, 4)
    end as baseline_eur_per_suppl_unit,
    case
        when m.suppl_unit is null then 'no single supplementary unit for the product'
        when coalesce(m.quantity_suppl_unit, 0) = 0 then 'no supplementary quantity reported for the month'
        when m.baseline_suppl_unit is distinct from m.suppl_unit or coalesce(m.baseline_quantity_suppl_unit, 0) = 0
            then 'no baseline exports in the same supplementary unit'
    end as suppl_unit_null_reason
from months as m
left join {{ ref('int_reference__product_key_flags') }} as p on m.product_key = p.product_key
