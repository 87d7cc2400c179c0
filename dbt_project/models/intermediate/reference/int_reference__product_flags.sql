{{ config(materialized='table') }}
-- Every HS6 code of either edition with its product key and the flags analysts filter on, in one place.
-- Codes that the concordance does not hold (none should exist; tested by dbt_project/tests) are their own key.
--   chp_tier / chp_match   from int_reference__watched_hs6 (CHP list of 23 Feb 2024, HS2017 through successors)
--   is_export_restricted   a CN8 code under the HS6 is on reference.eu_export_restricted_cn8 (Reg. 833/2014 as
--                          of 7 Oct 2022); an HS2017 code also when one of its HS2022 successors is
--   product_group          the goods named in the sanctions debate (reference.sanctions_debate_goods, HS4)
with restricted as (
    select distinct left(code, 6) as hs6 from {{ ref('eu_export_restricted_cn8') }}
),

codes as (
    select hs_edition, hs6, product_key, product_key_kind, hs2017_codes, hs2022_codes
    from {{ ref('int_reference__product_keys') }}
),

restricted_keys as (
    select distinct k.product_key
    from codes as k
    inner join restricted as r on k.hs6 = r.hs6
),

restricted_hs2017 as (
    select distinct c.hs2017_hs6 as hs6
    from {{ ref('int_reference__hs_concordance') }} as c
    inner join restricted as r on c.hs2022_hs6 = r.hs6
)

select
    k.hs_edition,
    k.hs6,
    k.product_key,
    k.product_key_kind,
    k.hs2017_codes,
    k.hs2022_codes,
    w.chp_tier,
    w.chp_match,
    (r.hs6 is not null or (k.hs_edition = 'HS2017' and r17.hs6 is not null)) as is_export_restricted,
    rk.product_key is not null as is_export_restricted_key,
    g.product_group
from codes as k
left join {{ ref('int_reference__watched_hs6') }} as w on k.hs_edition = w.hs_edition and k.hs6 = w.hs6
left join restricted as r on k.hs6 = r.hs6
left join restricted_hs2017 as r17 on k.hs6 = r17.hs6
left join restricted_keys as rk on k.product_key = rk.product_key
left join {{ ref('sanctions_debate_goods') }} as g on left(k.hs6, 4) = g.hs4
