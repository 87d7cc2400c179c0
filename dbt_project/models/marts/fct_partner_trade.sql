{{ config(**months_replaced_whole(unique_key='period')) }}
-- Months are replaced whole, like fct_eu_exports.
with restricted_hs4 as (
    select distinct left(code, 4) as hs4 from {{ ref('eu_export_restricted_cn8') }}
),

codes as (
    select comtrade_m49, iso2 from {{ ref('country_codes') }} where comtrade_m49 is not null
    union all
    select comtrade_m49, iso2 from {{ ref('comtrade_code_aliases') }}
)

select
    t.period,
    reporter.iso2 as reporter,
    t.flow_code as flow,
    partner.iso2 as partner,
    t.hs_code,
    t.hs_level,
    t.classification,
    t.value_usd,
    t.cif_usd,
    t.fob_usd,
    t.net_weight_kg,
    t.qty,
    t.qty_unit,
    t.aggregation,
    t.source_rows,
    t.reporter_m49,
    t.partner_m49,
    t.source_vintage,
    t.source_sha256,
    -- the code in the edition the reporter used (H5 = HS2017, H6 = HS2022); HS4 rows are restricted when a
    -- restricted CN8 code lies under them, and have no CHP tier (the list is HS6)
    pf.product_key,
    pf.chp_tier,
    coalesce(pf.is_export_restricted, t.hs_level < 6 and t.hs_code in (select hs4 from restricted_hs4), false)
        as is_export_restricted
from {{ ref('int_comtrade__flow_totals') }} as t
left join codes as reporter on t.reporter_m49 = reporter.comtrade_m49
left join codes as partner on t.partner_m49 = partner.comtrade_m49
left join {{ ref('int_reference__product_flags') }} as pf
    on t.hs_level = 6
    and t.hs_code = pf.hs6
    and pf.hs_edition = case
        when t.classification = 'H5' then 'HS2017'
        when t.classification = 'H6' then 'HS2022'
        when t.period < date '2022-01-01' then 'HS2017'
        else 'HS2022'
    end
