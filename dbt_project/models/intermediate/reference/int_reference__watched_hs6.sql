-- The CHP tier of an HS6 code in each HS edition, in one place: HS2022 codes straight from the CHP list, HS2017
-- codes through the full HS2017 -> HS2022 concordance ('exact' when every HS2022 successor is on the list,
-- 'partial' when only some are).
with hs2017 as (
    select
        corr.hs2017_hs6 as hs6,
        -- all CHP successors of one HS2017 code share a tier (tested: hs2017_successors_share_one_chp_tier)
        min(chp.tier) as chp_tier,
        case when bool_and(chp.hs6 is not null) then 'exact' else 'partial' end as chp_match
    from {{ ref('int_reference__hs_concordance') }} as corr
    left join {{ ref('chp_list') }} as chp on corr.hs2022_hs6 = chp.hs6
    group by corr.hs2017_hs6
    having count(chp.hs6) > 0
)

select 'HS2022' as hs_edition, hs6, tier as chp_tier, 'exact' as chp_match from {{ ref('chp_list') }}
union all
select 'HS2017' as hs_edition, hs6, chp_tier, chp_match from hs2017
