{#- The run's month window, from the vars Dagster passes (inclusive, first-of-month dates). -#}
{% macro in_run_window(column) -%}
    {{ column }} between cast('{{ var("min_period") }}' as date) and cast('{{ var("max_period") }}' as date)
{%- endmacro %}
