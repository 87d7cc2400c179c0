-- Known HS2017 -> HS2022 changes (SOURCES.md sections 4 and 7) must come out as the product keys they are.
with expected as (
    select 'HS2017' as hs_edition, '854150' as hs6, '854151+854159' as product_key, 'split' as kind
    union all select 'HS2022', '854151', '854151+854159', 'split'
    union all select 'HS2022', '854159', '854151+854159', 'split'
    union all select 'HS2017', '880330', '880730', 'renumbered'
    union all select 'HS2022', '880730', '880730', 'renumbered'
    union all select 'HS2017', '847150', '847150', 'unchanged'
    union all select 'HS2022', '854231', '854231', 'split'
)

select e.*, k.product_key as got_key, k.product_key_kind as got_kind
from expected as e
left join {{ ref('int_reference__product_keys') }} as k on e.hs_edition = k.hs_edition and e.hs6 = k.hs6
where k.product_key is distinct from e.product_key or k.product_key_kind is distinct from e.kind
union all
-- 851712 (phones) split into 851713 (smartphones) and 851714 (other phones), among others
select 'HS2017', '851712', k.product_key, k.product_key_kind, k.product_key, k.product_key_kind
from {{ ref('int_reference__product_keys') }} as k
where k.hs_edition = 'HS2017' and k.hs6 = '851712'
  and not ({{ array_contains('k.hs2022_codes', "'851713'") }} and {{ array_contains('k.hs2022_codes', "'851714'") }}
           and k.product_key_kind = 'split')
