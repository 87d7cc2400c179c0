-- Extra-EU exports of the run's months at the mart's grain, with HS6 and CHP classification.
-- Several rows per key exist in the source (one per statistical procedure, supplementary unit): they are summed.
with exports as (
    select period, reporter, partner, cn8, value_eur, quantity_kg, source_file, source_sha256
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
    watched.chp_tier,
    watched.chp_match,
    c.value_eur,
    c.quantity_kg,
    c.source_file,
    c.source_sha256
from classified as c
left join {{ ref('int_reference__watched_hs6') }} as watched
    on c.hs_edition = watched.hs_edition and c.hs6 = watched.hs6
