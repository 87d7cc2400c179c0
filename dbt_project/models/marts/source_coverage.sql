{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['source', 'period'],
        on_schema_change='fail',
    )
}}
-- Which reporters each source release covers. Eurostat's newest month is often partial (fewer than 27
-- reporters): it is published, flagged here, and replaced when a complete release arrives.
with months as (
    select
        period,
        count(*) as row_count,
        list(distinct reporter order by reporter) as reporters_present,
        count(distinct source_sha256) as source_file_count,
        min(source_file) as source_file,
        min(source_sha256) as source_sha256,
        min(retrieved_at) as retrieved_at
    from {{ ref('stg_comext__trade_flows') }}
    where {{ in_run_window('period') }}
    group by period
),

expected as (
    select
        m.period,
        list(cc.iso2 order by cc.iso2) as reporters_expected
    from months as m
    inner join {{ ref('country_codes') }} as cc
        on cc.eu_member_from <= m.period
        and (cc.eu_member_to is null or cc.eu_member_to >= m.period)
    group by m.period
)

select
    'comext' as source,
    m.period,
    m.row_count,
    len(m.reporters_present) as reporter_count,
    len(e.reporters_expected) as reporters_expected_count,
    m.reporters_present,
    list_filter(e.reporters_expected, lambda r: not list_contains(m.reporters_present, r)) as reporters_missing,
    len(m.reporters_present) >= len(e.reporters_expected) as is_complete,
    m.source_file_count,
    m.source_file,
    m.source_sha256,
    m.retrieved_at
from months as m
inner join expected as e on m.period = e.period
