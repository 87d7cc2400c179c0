-- An HS2017 code whose successors are on the CHP list in different tiers would get an arbitrary tier.
select corr.hs2017_hs6, count(distinct chp.tier) as tiers
from {{ ref('int_reference__hs_concordance') }} as corr
inner join {{ ref('chp_list') }} as chp on corr.hs2022_hs6 = chp.hs6
group by corr.hs2017_hs6
having count(distinct chp.tier) > 1
