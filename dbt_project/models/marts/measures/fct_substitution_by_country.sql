-- Which transit country took over which product: per (year, transit country, product key), EU exports (Comext,
-- EUR) to the country and to Russia + Belarus over the year's compared months, each against the sum of those
-- months' matched baselines (int_measures__eu_destination_months), and the counterfactual from the control group.
--   substitution_ratio            = (eu_to_transit_eur - baseline_eu_to_transit_eur)
--                                   / (baseline_eu_to_russia_belarus_eur - eu_to_russia_belarus_eur),
--                                   only when direct exports fell (else NULL, substitution_null_reason says why)
--   control_growth                = control_eur / baseline_control_eur (every other extra-EU country)
--   expected_eu_to_transit_eur    = baseline_eu_to_transit_eur * control_growth
--   excess_over_counterfactual_eur = eu_to_transit_eur - expected_eu_to_transit_eur
{{ config(**rebuilt_by('year')) }}
with months as (
    select * from {{ ref('int_measures__eu_destination_months') }}
    where {{ in_rebuilt_years('year(period)') }}
),

years as (
    select
        year(period) as year,
        count(distinct period) as months_compared,
        min(period) as first_month,
        max(period) as last_month,
        {{ sorted_array_agg('period', distinct=true) }} as compared_periods,
        {{ sorted_array_union_agg('baseline_periods') }} as baseline_periods
    from months
    group by year(period)
),

by_destination as (
    select
        year(period) as year,
        destination,
        product_key,
        sum(value_eur) as value_eur,
        sum(baseline_value_eur) as baseline_value_eur
    from months
    group by year(period), destination, product_key
),

control_destinations as (
    select year(period) as year, max(partners) as control_partners
    from months
    where destination = 'CONTROL'
    group by year(period)
),

direct as (
    select
        year,
        product_key,
        sum(value_eur) as eu_to_russia_belarus_eur,
        sum(baseline_value_eur) as baseline_eu_to_russia_belarus_eur
    from by_destination
    where destination in ('RU', 'BY')
    group by year, product_key
),

control as (
    select year, product_key, value_eur as control_eur, baseline_value_eur as baseline_control_eur
    from by_destination
    where destination = 'CONTROL'
),

transit as (
    select
        year,
        destination as transit_country,
        product_key,
        value_eur as eu_to_transit_eur,
        baseline_value_eur as baseline_eu_to_transit_eur
    from by_destination
    where destination not in ('RU', 'BY', 'CONTROL')
),

keys as (
    select t.year, t.transit_country, t.product_key from transit as t
),

joined as (
    select
        k.year,
        k.transit_country,
        k.product_key,
        y.months_compared,
        y.first_month,
        y.last_month,
        y.baseline_periods,
        coalesce(d.eu_to_russia_belarus_eur, 0) as eu_to_russia_belarus_eur,
        coalesce(d.baseline_eu_to_russia_belarus_eur, 0) as baseline_eu_to_russia_belarus_eur,
        t.eu_to_transit_eur,
        t.baseline_eu_to_transit_eur,
        coalesce(c.control_eur, 0) as control_eur,
        coalesce(c.baseline_control_eur, 0) as baseline_control_eur,
        coalesce(cd.control_partners, 0) as control_partners
    from keys as k
    inner join years as y on k.year = y.year
    inner join transit as t on k.year = t.year and k.transit_country = t.transit_country and k.product_key = t.product_key
    left join direct as d on k.year = d.year and k.product_key = d.product_key
    left join control as c on k.year = c.year and k.product_key = c.product_key
    left join control_destinations as cd on k.year = cd.year
)

select
    j.year,
    j.transit_country,
    j.product_key,
    p.product_key_kind,
    p.hs2017_codes,
    p.hs2022_codes,
    p.chp_tier,
    p.is_export_restricted,
    p.product_group,
    j.months_compared,
    j.first_month,
    j.last_month,
    j.baseline_periods,
    {{ substitution_columns('j') }},
    j.control_partners,
    j.control_eur,
    j.baseline_control_eur,
    case when j.control_partners > 0 and j.baseline_control_eur > 0
        then round(j.control_eur / j.baseline_control_eur, 6)
    end as control_growth,
    case when j.control_partners > 0 and j.baseline_control_eur > 0
        then cast(round(j.baseline_eu_to_transit_eur * j.control_eur / j.baseline_control_eur, 2) as decimal(38, 2))
    end as expected_eu_to_transit_eur,
    case when j.control_partners > 0 and j.baseline_control_eur > 0
        then j.eu_to_transit_eur
            - cast(round(j.baseline_eu_to_transit_eur * j.control_eur / j.baseline_control_eur, 2) as decimal(38, 2))
    end as excess_over_counterfactual_eur,
    case
        when j.control_partners = 0 then 'no control destinations in the warehouse'
        when j.baseline_control_eur = 0 then 'control group had no baseline exports of the product'
    end as counterfactual_null_reason
from joined as j
left join {{ ref('int_reference__product_key_flags') }} as p on j.product_key = p.product_key
