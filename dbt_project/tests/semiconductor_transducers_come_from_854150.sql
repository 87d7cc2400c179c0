-- SOURCES.md section 7: the UN HS2022->HS2017 table wrongly gives 851712 as predecessor of 854151/854159; the
-- correction (reference.hs_concordance_corrections) must leave 854150 as their only predecessor.
select *
from {{ ref('int_reference__hs_concordance') }}
where (hs2022_hs6 in ('854151', '854159') and hs2017_hs6 <> '854150')
   or (hs2017_hs6 = '854150' and hs2022_hs6 not in ('854151', '854159'))
   or (hs2017_hs6 = '851712' and hs2022_hs6 in ('854151', '854159'))
union all
-- and both links must exist
select '854150' as hs2017_hs6, missing.hs2022_hs6
from (select '854151' as hs2022_hs6 union all select '854159') as missing
where not exists (
    select 1 from {{ ref('int_reference__hs_concordance') }} as c
    where c.hs2017_hs6 = '854150' and c.hs2022_hs6 = missing.hs2022_hs6
)
