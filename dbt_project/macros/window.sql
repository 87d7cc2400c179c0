{#- The run's month window, from the vars Dagster passes (inclusive, first-of-month dates). -#}
{% macro in_run_window(column) -%}
    {{ column }} between cast('{{ var("min_period") }}' as date) and cast('{{ var("max_period") }}' as date)
{%- endmacro %}

{#- The same window on a raw YYYYMM text column of the lake (e.g. Comext PERIOD): a filter DuckDB can push into the
    parquet scan, where it skips every month outside the window by its row-group statistics instead of reading and
    converting the whole lake. -#}
{% macro in_run_window_yyyymm(column) -%}
    {{ column }} between '{{ var("min_period")[:7] | replace("-", "") }}' and '{{ var("max_period")[:7] | replace("-", "") }}'
{%- endmacro %}

{#- Incremental mirror and measure marts: which months a run rebuilds, and which months it reads to do so.
    A month's row depends only on itself and on EARLIER months (the mirror's lag window, the 12-month windows of the
    ranking, the baseline years), so a run of months min_period..max_period rebuilds those months and the
    `reach_months` after them. A run that touches a baseline month changes every matched (or flat) baseline, so
    a baseline-dependent mart then rebuilds every later month. Nothing of this grows with the history: a new month
    at the end costs that month (plus its reach), whatever the warehouse holds. orchestration/lib/publication.py
    copies such marts from `period >= window start` when it brings the next build up to date (meta
    later_periods_depend), which is the same rule seen from the publication. -#}

{% macro shift_month(day, months) -%}
    {%- set index = day[:4] | int * 12 + day[5:7] | int - 1 + months -%}
    {{- '%04d-%02d-01' | format(index // 12, index % 12 + 1) -}}
{%- endmacro %}

{% macro touches_baseline() -%}
    {{- return(var('min_period') <= var('baseline_end')) -}}
{%- endmacro %}

{#- The first month a run rebuilds: its first month; but a run that touches the baseline changes the baseline of
    every row, the baseline months' own rows included (fct_transit_to_russia keeps them), so a baseline-dependent
    mart then rebuilds from the baseline's first month. orchestration/lib/publish/publication.py follows the same
    rule (rebuilt_from). -#}
{% macro rebuild_start(uses_baseline=true) -%}
    {%- if uses_baseline and touches_baseline() and var('baseline_start') < var('min_period') -%}
        {{- var('baseline_start') -}}
    {%- else -%}{{- var('min_period') -}}{%- endif -%}
{%- endmacro %}

{#- The last month a run rebuilds, as 'YYYY-MM-01' ('2999-12-01': every later month). -#}
{% macro rebuild_end(reach_months, uses_baseline=true) -%}
    {%- if uses_baseline and touches_baseline() -%}2999-12-01
    {%- else -%}{{ shift_month(var('max_period'), reach_months) }}{%- endif -%}
{%- endmacro %}

{#- The months this run rebuilds in a month-grain mart. -#}
{% macro in_rebuilt_months(column, reach_months=0, uses_baseline=true) -%}
    {{ column }} between cast('{{ rebuild_start(uses_baseline) }}' as date)
        and cast('{{ rebuild_end(reach_months, uses_baseline) }}' as date)
{%- endmacro %}

{#- The years this run rebuilds in a year-grain mart (a year is the sum of its months). -#}
{% macro in_rebuilt_years(column, uses_baseline=true) -%}
    {{ column }} between {{ rebuild_start(uses_baseline)[:4] }} and {{ rebuild_end(0, uses_baseline)[:4] }}
{%- endmacro %}

{#- The months the rebuilt rows read: the baseline years, and the rebuilt months with the longest look-back before
    them (the 12-month windows of the ranking and their mirror lag; the whole year of a year-grain mart) and the
    longest reach after them. The intermediate tables of the measures hold only these months. -#}
{% macro in_read_months(column) -%}
    {%- set lookback = 11 + var('mirror_lag_months') | int -%}
    {%- set start = rebuild_start(true) -%}
    {%- set first = [shift_month(start, -lookback), start[:4] ~ '-01-01'] | min -%}
    {%- if touches_baseline() -%}
        {%- set last = '2999-12-01' -%}
    {%- else -%}
        {%- set last = [shift_month(var('max_period'), lookback), var('max_period')[:4] ~ '-12-01'] | max -%}
    {%- endif -%}
    ({{ column }} between cast('{{ first }}' as date) and cast('{{ last }}' as date) or {{ in_baseline(column) }})
{%- endmacro %}

{#- The config of a mart rebuilt by months (grain 'period') or by years (grain 'year'), in one place:
        {{ config(**rebuilt_by('period', reach_months=2)) }}
    The pre-hook deletes exactly the months (years) the run rebuilds, so a key that no longer has a row goes too;
    the model's SQL selects those months with in_rebuilt_months / in_rebuilt_years. -#}
{% macro rebuilt_by(grain, reach_months=0, uses_baseline=true) -%}
    {%- set meta = {'later_periods_depend': true, 'grain': grain, 'reach_months': reach_months,
                    'uses_baseline': uses_baseline} -%}
    {{- return(adapter.dispatch('rebuilt_by', 'mirror_trade')(grain, reach_months, uses_baseline, meta)) -}}
{%- endmacro %}

{% macro default__rebuilt_by(grain, reach_months, uses_baseline, meta) -%}
    {%- if grain == 'period' -%}
        {%- set rebuilt = "in_rebuilt_months('period', " ~ reach_months ~ ", " ~ uses_baseline ~ ")" -%}
    {%- else -%}
        {%- set rebuilt = "in_rebuilt_years('year', " ~ uses_baseline ~ ")" -%}
    {%- endif -%}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': grain,
        'on_schema_change': 'fail',
        'meta': meta,
        'pre_hook': "{% if is_incremental() %}delete from {{ this }} where {{ " ~ rebuilt ~ " }}{% endif %}",
    }) -}}
{%- endmacro %}

{#- Spark (parquet tables, no Delta, no DELETE): the run's rebuilt months (years) overwrite their partitions, as
    months_replaced_whole does; a month that lost every row keeps its old partition there. -#}
{% macro spark__rebuilt_by(grain, reach_months, uses_baseline, meta) -%}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': [grain],
        'on_schema_change': 'fail',
        'meta': meta,
    }) -}}
{%- endmacro %}
