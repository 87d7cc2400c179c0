-- The flags of a product key (a group of HS6 codes stable across HS editions), from its HS2022 codes: the highest
-- CHP tier among them, export-restricted when any of its codes is, the sanctions-debate product group.
select
    product_key,
    min(product_key_kind) as product_key_kind,
    min(hs2017_codes) as hs2017_codes,
    min(hs2022_codes) as hs2022_codes,
    min(chp_tier) filter (where hs_edition = 'HS2022') as chp_tier,
    bool_or(is_export_restricted) as is_export_restricted,
    min(product_group) as product_group
from {{ ref('int_reference__product_flags') }}
group by product_key
