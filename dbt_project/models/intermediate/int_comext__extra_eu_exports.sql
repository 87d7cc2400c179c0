-- Extra-EU exports of the run's months at the mart's grain, with HS6, the product key across HS editions, the CHP
-- tier and whether the CN8 code is export-restricted (Reg. 833/2014, reference.eu_export_restricted_cn8).
-- Several rows per key exist in the source (one per statistical procedure, supplementary unit): they are summed.
with exports as (
    select period, reporter, partner, cn8, value_eur, quantity_kg, suppl_unit, quantity_suppl_unit, source_file, source_sha256
    from {{ ref('stg_comext__trade_flows') }}
    where flow_code = '2'
      and trade_type = 'E'
      and {{ in_run_window_yyyymm('period_key') }}
),

by_key as (
    select
        period,
        reporter,
        partner,
        cn8,
        sum(value_eur) as value_eur,
        sum(quantity_kg) as quantity_kg,
        -- a CN8 code has one supplementary unit (or NO_SU); the quantity is summed only under it
        case when count(distinct suppl_unit) = 1 and min(suppl_unit) <> 'NO_SU' then min(suppl_unit) end as suppl_unit,
        case when count(distinct suppl_unit) = 1 and min(suppl_unit) <> 'NO_SU'
            then sum(quantity_suppl_unit)
        end as quantity_suppl_unit,
        -- one raw file per month, so these are constant within a period
        min(source_file) as source_file,
        min(source_sha256) as source_sha256
    from exports
    group by period, reporter, partner, cn8
),

classified as (
    select
        *,
        contains(cn8, 'X') as is_confidential,
        case
            when contains(cn8, 'X') or left(cn8, 2) in ('98', '99') then null
            else left(cn8, 6)
        end as hs6,
        -- CN8 -> HS6 by truncation is valid only within one HS edition (SOURCES.md section 4)
        case
            when period < date '2017-01-01' then 'HS2012'
            when period < date '2022-01-01' then 'HS2017'
            when period < date '2028-01-01' then 'HS2022'
            else 'HS2028'
        end as hs_edition
    from by_key
)

select
    c.period,
    c.reporter,
    c.partner,
    c.cn8,
    c.hs6,
    c.hs_edition,
    c.is_confidential,
    flags.product_key,
    flags.chp_tier,
    flags.chp_match,
    restricted.code is not null as is_export_restricted,
    c.value_eur,
    c.quantity_kg,
    c.suppl_unit,
    c.quantity_suppl_unit,
    c.source_file,
    c.source_sha256
from classified as c
left join {{ ref('int_reference__product_flags') }} as flags
    on c.hs_edition = flags.hs_edition and c.hs6 = flags.hs6
left join {{ ref('eu_export_restricted_cn8') }} as restricted on c.cn8 = restricted.code
