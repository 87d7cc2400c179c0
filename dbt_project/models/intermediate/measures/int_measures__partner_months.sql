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

coverage as (
    select
        cm.period,
        k.country,
        k.product_key,
        cm.usd_per_eur,
        cm.eu_month_loaded and cm.usd_per_eur is not null as eu_covered,
        coalesce(cm.partner_released and (
            {{ array_contains('cm.partner_products', "'AG6'") }}
            or {{ array_contains_all('cm.partner_products', 'coalesce(pk.hs2022_codes, ' ~ array_literal(['k.product_key']) ~ ')') }}
            or {{ array_contains_all('cm.partner_products', 'coalesce(pk.hs2017_codes, ' ~ array_literal(['k.product_key']) ~ ')') }}
        ), false) as covered_partner
    from {{ ref('int_mirror__country_months') }} as cm
    inner join keys as k on cm.country = k.country
    left join product_keys as pk on k.product_key = pk.product_key
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
