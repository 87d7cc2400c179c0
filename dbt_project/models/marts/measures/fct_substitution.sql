-- The EBRD's substitution ratio per (year, product key): how much of the fall in direct EU exports to Russia and
-- Belarus reappeared as a rise in EU exports to the transit countries (var transit_countries). Comext only, EUR,
-- over the year's compared months (months after the baseline with a Comext month and at least one baseline year
-- covering the calendar month), each against its matched baseline (macros/matched_baseline.sql).
--   substitution_ratio = (eu_to_transit_eur - baseline_eu_to_transit_eur)
--                        / (baseline_eu_to_russia_belarus_eur - eu_to_russia_belarus_eur)
-- only when direct exports fell; NULL otherwise, with substitution_null_reason. fct_substitution_by_country has the
-- same per transit country.
{% set transit = var('transit_countries') %}
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
        {{ sorted_array_union_agg('baseline_periods') }} as baseline_periods
    from months
    group by year(period)
),

sums as (
    select
        year(period) as year,
        product_key,
        coalesce(sum(value_eur) filter (where destination in ('RU', 'BY')), 0) as eu_to_russia_belarus_eur,
        coalesce(sum(baseline_value_eur) filter (where destination in ('RU', 'BY')), 0)
            as baseline_eu_to_russia_belarus_eur,
        coalesce(sum(value_eur) filter (where destination not in ('RU', 'BY', 'CONTROL')), 0) as eu_to_transit_eur,
        coalesce(sum(baseline_value_eur) filter (where destination not in ('RU', 'BY', 'CONTROL')), 0)
            as baseline_eu_to_transit_eur
    from months
    where destination <> 'CONTROL'
    group by year(period), product_key
),

leader as (
    -- the transit country with the largest rise; of equal rises, the first by ISO code (so that every build agrees)
    select
        year,
        product_key,
        case when transit_rise_eur is not null then transit_country end as largest_rise_transit_country,
        transit_rise_eur as largest_rise_eur
    from (
        select
            year,
            product_key,
            transit_country,
            transit_rise_eur,
            row_number() over (
                partition by year, product_key order by transit_rise_eur desc nulls last, transit_country
            ) as place
        from {{ ref('fct_substitution_by_country') }}
        where {{ in_rebuilt_years('year') }}
    ) as ranked
    where place = 1
)

select
    s.year,
    s.product_key,
    p.product_key_kind,
    p.hs2017_codes,
    p.hs2022_codes,
    p.chp_tier,
    p.is_export_restricted,
    p.product_group,
    y.months_compared,
    y.first_month,
    y.last_month,
    y.baseline_periods,
    {{ array_literal(["'" ~ transit | join("', '") ~ "'"]) }} as transit_countries,
    {{ substitution_columns('s') }},
    l.largest_rise_transit_country,
    l.largest_rise_eur
from sums as s
inner join years as y on s.year = y.year
left join leader as l on s.year = l.year and s.product_key = l.product_key
left join {{ ref('int_reference__product_key_flags') }} as p on s.product_key = p.product_key
