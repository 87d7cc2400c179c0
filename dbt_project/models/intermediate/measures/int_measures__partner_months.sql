{{ config(materialized='table') }}
-- Both sides of the mirror per (period, watched partner country, product key), every month the warehouse holds,
-- with whether each side is covered for that product key. From int_mirror__monthly_sides (HS6 rows, mapped to
-- the product key in the month's HS edition) and int_mirror__country_months.
--   eu_exports_usd_cif  = round(round(eu_exports_eur * usd_per_eur, 2) * cif_fob_factor, 2), as in fct_mirror_flows
--   covered_both        = the Comext month and ECB rate are there, the partner released the month and fetched
--                         every code of the product key (or every HS6 code: 'AG6')
--   covered_partner     = the partner side alone is covered (for onward flows to Russia and Belarus)
{% set factor = var('cif_fob_factor') %}
with product_keys as (
    select product_key, min(hs2017_codes) as hs2017_codes, min(hs2022_codes) as hs2022_codes
    from {{ ref('int_reference__product_flags') }}
    group by product_key
),

sides as (
    select
        s.period,
        s.country,
        coalesce(f.product_key, s.hs6) as product_key,
        sum(s.eu_exports_eur) as eu_exports_eur,
        sum(s.partner_imports_from_eu_usd) as partner_imports_usd,
        sum(s.exports_to_russia_usd + s.reexports_to_russia_usd + s.exports_to_belarus_usd
            + s.reexports_to_belarus_usd) as transit_to_russia_belarus_usd
    from {{ ref('int_mirror__monthly_sides') }} as s
    left join {{ ref('int_reference__product_flags') }} as f on s.hs_edition = f.hs_edition and s.hs6 = f.hs6
    group by s.period, s.country, coalesce(f.product_key, s.hs6)
),

keys as (
    select distinct country, product_key from sides
),

-- The partner side's coverage, set by set rather than list by list: a month covers a product key when the
-- partner fetched every code of one of its code sets (HS2022 or HS2017), or every code ('AG6').
months as (
    select
        period,
        country,
        usd_per_eur,
        eu_month_loaded and usd_per_eur is not null as eu_covered,
        coalesce(partner_released, false) as released,
        coalesce({{ array_contains('partner_products', "'AG6'") }}, false) as all_codes,
        partner_products is not null as has_products
    from {{ ref('int_mirror__country_months') }}
    where {{ in_read_months('period') }}
),

fetched as (
    select period, country, {{ array_explode('partner_products') }} as code
    from {{ ref('int_mirror__country_months') }}
    where partner_released and {{ in_read_months('period') }}
),

key_sets as (
    select k.country, k.product_key, 'HS2022' as edition, {{ array_distinct('coalesce(pk.hs2022_codes, ' ~ array_literal(['k.product_key']) ~ ')') }} as codes
    from keys as k
    left join product_keys as pk on k.product_key = pk.product_key
    union all
    select k.country, k.product_key, 'HS2017' as edition, {{ array_distinct('coalesce(pk.hs2017_codes, ' ~ array_literal(['k.product_key']) ~ ')') }} as codes
    from keys as k
    left join product_keys as pk on k.product_key = pk.product_key
),

key_codes as (
    select country, product_key, edition, {{ array_length('codes') }} as set_size, {{ array_explode('codes') }} as code
    from key_sets
),

complete_sets as (
    -- (month, country, key) where one of the key's code sets was fetched whole
    select distinct f.period, kc.country, kc.product_key
    from key_codes as kc
    inner join fetched as f on f.country = kc.country and f.code = kc.code
    group by f.period, kc.country, kc.product_key, kc.edition, kc.set_size
    having count(distinct kc.code) = kc.set_size
),

empty_sets as (
    -- a key with an empty code set is covered by any released month (as list_has_all(products, []) is)
    select distinct country, product_key from key_sets where {{ array_length('codes') }} = 0
),

coverage as (
    select
        m.period,
        k.country,
        k.product_key,
        m.usd_per_eur,
        m.eu_covered,
        m.released and (m.all_codes or cs.product_key is not null or (es.product_key is not null and m.has_products))
            as covered_partner
    from months as m
    inner join keys as k on m.country = k.country
    left join complete_sets as cs
        on m.period = cs.period and k.country = cs.country and k.product_key = cs.product_key
    left join empty_sets as es on k.country = es.country and k.product_key = es.product_key
)

select
    c.period,
    c.country,
    c.product_key,
    c.eu_covered and c.covered_partner as covered_both,
    c.covered_partner,
    case when c.eu_covered
        then round(round(coalesce(s.eu_exports_eur, 0) * c.usd_per_eur, 2) * {{ factor }}, 2)
    end as eu_exports_usd_cif,
    case when c.covered_partner then coalesce(s.partner_imports_usd, 0) end as partner_imports_usd,
    case when c.covered_partner then coalesce(s.transit_to_russia_belarus_usd, 0) end as transit_to_russia_belarus_usd
from coverage as c
left join sides as s on c.period = s.period and c.country = s.country and c.product_key = s.product_key
