{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period',
        on_schema_change='fail',
    )
}}
-- Months are replaced whole, like fct_eu_exports.
with codes as (
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
    t.source_sha256
from {{ ref('int_comtrade__flow_totals') }} as t
left join codes as reporter on t.reporter_m49 = reporter.comtrade_m49
left join codes as partner on t.partner_m49 = partner.comtrade_m49
