{{ config(**months_replaced_whole(unique_key=['source', 'period'])) }}
-- Which source and reporter covers which month, with release dates, row counts and the raw release.
-- Comext: every EU member of the month is expected (its newest month is often partial: published, flagged).
-- Comtrade: every watched reporter, released or not according to getDa. ECB: one row per month.
-- A source that failed for a month keeps its previous data: last_attempt_* and days_since_retrieval say how stale.
with attempts as (
    select * from {{ ref('stg_pipeline__fetch_status') }} where {{ in_run_window('period') }}
),

comext_data_months as (
    select
        period,
        min(source_file) as source_file,
        min(source_sha256) as source_sha256,
        count(distinct source_sha256) as source_files,
        min(retrieved_at) as retrieved_at
    from {{ ref('stg_comext__trade_flows') }}
    where {{ in_run_window_yyyymm('period_key') }}
    group by period
),

comext_months as (
    select * from comext_data_months
    union all
    select period, null as source_file, null as source_sha256, 0 as source_files, null as retrieved_at
    from attempts
    where source = 'comext' and period not in (select period from comext_data_months)
),

comext_reporters as (
    select period, reporter, count(*) as row_count
    from {{ ref('stg_comext__trade_flows') }}
    where {{ in_run_window_yyyymm('period_key') }}
    group by period, reporter
),

comext_expected as (
    select m.period, cc.iso2 as reporter
    from comext_months as m
    inner join {{ ref('country_codes') }} as cc
        on cc.eu_member_from <= m.period
        and (cc.eu_member_to is null or cc.eu_member_to >= m.period)
    union
    select period, reporter from comext_reporters
),

comext as (
    select
        'comext' as source,
        e.period,
        e.reporter,
        r.row_count is not null as is_present,
        coalesce(r.row_count, 0) as row_count,
        cast(null as timestamp) as first_released,
        cast(null as timestamp) as last_released,
        m.source_file,
        m.source_sha256,
        m.source_files,
        m.retrieved_at,
        'all products, all partners (bulk file)' as scope
    from comext_expected as e
    inner join comext_months as m on e.period = m.period
    left join comext_reporters as r on e.period = r.period and e.reporter = r.reporter
),

comtrade as (
    select
        'comtrade' as source,
        period,
        reporter,
        released as is_present,
        records_fetched as row_count,
        first_released,
        last_released,
        vintage as source_file,
        manifest_sha256 as source_sha256,
        case when released then 1 else 0 end as source_files,
        retrieved_at,
        scope
    from {{ ref('stg_comtrade__availability') }}
    where {{ in_run_window('period') }}
),

never_fetched as (
    -- a Comtrade or ECB month that was attempted but has delivered nothing yet: one row saying so
    select
        a.source,
        a.period,
        case a.source when 'comtrade' then 'ALL' else 'EA' end as reporter,
        false as is_present,
        0 as row_count,
        cast(null as timestamp) as first_released,
        cast(null as timestamp) as last_released,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as {{ dbt.type_string() }}) as source_sha256,
        0 as source_files,
        cast(null as {{ type_timestamptz() }}) as retrieved_at,
        case a.source when 'comtrade' then 'nothing fetched yet' else 'no rate yet' end as scope
    from attempts as a
    where (a.source = 'comtrade' and a.period not in (select period from comtrade))
       or (a.source = 'ecb' and a.period not in (select period from {{ ref('stg_ecb__exchange_rates') }}))
),

ecb as (
    select
        'ecb' as source,
        period,
        'EA' as reporter,
        true as is_present,
        1 as row_count,
        cast(null as timestamp) as first_released,
        cast(null as timestamp) as last_released,
        source_file,
        source_sha256,
        1 as source_files,
        retrieved_at,
        series_key as scope
    from {{ ref('stg_ecb__exchange_rates') }}
    where {{ in_run_window('period') }}
),

all_sources as (
    select * from comext
    union all
    select * from comtrade
    union all
    select * from ecb
    union all
    select * from never_fetched
)

select
    s.*,
    bool_and(s.is_present) over (partition by s.source, s.period) as month_complete,
    a.attempted_at as last_attempt_at,
    a.status as last_attempt_status,
    a.error as last_attempt_error,
    {{ days_since('s.retrieved_at') }} as days_since_retrieval
from all_sources as s
left join attempts as a on s.source = a.source and s.period = a.period
