-- The unrolled group search of int_reference__product_keys is complete only if both codes of every concordance
-- link ended in the same product key.
select c.hs2017_hs6, c.hs2022_hs6, a.product_key as hs2017_key, b.product_key as hs2022_key
from {{ ref('int_reference__hs_concordance') }} as c
left join {{ ref('int_reference__product_keys') }} as a on a.hs_edition = 'HS2017' and a.hs6 = c.hs2017_hs6
left join {{ ref('int_reference__product_keys') }} as b on b.hs_edition = 'HS2022' and b.hs6 = c.hs2022_hs6
where a.product_key is distinct from b.product_key
