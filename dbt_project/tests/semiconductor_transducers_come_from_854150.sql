-- SOURCES.md section 4: the UN HS2022->HS2017 table wrongly gives 851712 as predecessor of 854151/854159.
select *
from {{ ref('hs2017_hs2022_correspondence') }}
where (hs2022_hs6 in ('854151', '854159') and hs2017_hs6 <> '854150')
   or (hs2017_hs6 = '854150' and hs2022_hs6 not in ('854151', '854159'))
