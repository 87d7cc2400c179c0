-- The HS2022 <-> HS2017 links at six digits (UNSD, reference.hs2022_hs2017_concordance) with the known errors
-- corrected in one place (reference.hs_concordance_corrections): 854151 and 854159 come from 854150, not 851712.
-- One row per link; a link is not a share of value.
select distinct
    coalesce(fix.corrected_hs2017_hs6, c.hs2017_hs6) as hs2017_hs6,
    c.hs2022_hs6
from {{ ref('hs2022_hs2017_concordance') }} as c
left join {{ ref('hs_concordance_corrections') }} as fix
    on c.hs2022_hs6 = fix.hs2022_hs6 and c.hs2017_hs6 = fix.published_hs2017_hs6
