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
