{#- Scalar differences between DuckDB and Spark SQL, one macro each, dispatched on the adapter. DuckDB's rendering
    is exactly the SQL the models had before they were made portable. -#}

{#- A month of the lake's YYYYMM text columns as the first day of that month. -#}
{% macro yyyymm_to_date(column) -%}
    {{ return(adapter.dispatch('yyyymm_to_date', 'mirror_trade')(column)) }}
{%- endmacro %}
{% macro default__yyyymm_to_date(column) -%}cast(strptime({{ column }}, '%Y%m') as date){%- endmacro %}
{% macro spark__yyyymm_to_date(column) -%}to_date({{ column }}, 'yyyyMM'){%- endmacro %}

{#- An instant: DuckDB's TIMESTAMP WITH TIME ZONE; Spark's TIMESTAMP is already one (shown in the session zone). -#}
{% macro type_timestamptz() -%}
    {{ return(adapter.dispatch('type_timestamptz', 'mirror_trade')()) }}
{%- endmacro %}
{% macro default__type_timestamptz() -%}timestamptz{%- endmacro %}
{% macro spark__type_timestamptz() -%}timestamp{%- endmacro %}

{#- Neither NaN nor infinite. -#}
{% macro is_finite(expr) -%}
    {{ return(adapter.dispatch('is_finite', 'mirror_trade')(expr)) }}
{%- endmacro %}
{% macro default__is_finite(expr) -%}isfinite({{ expr }}){%- endmacro %}
{% macro spark__is_finite(expr) -%}
    (not isnan({{ expr }}) and abs({{ expr }}) <> double('infinity'))
{%- endmacro %}

{#- Does the whole of `column` match `regex` (a pattern both RE2 and Java read alike: classes, counts, groups)? -#}
{% macro regex_full_match(column, regex) -%}
    {{ return(adapter.dispatch('regex_full_match', 'mirror_trade')(column, regex)) }}
{%- endmacro %}
{% macro default__regex_full_match(column, regex) -%}regexp_full_match({{ column }}, '{{ regex }}'){%- endmacro %}
{% macro spark__regex_full_match(column, regex) -%}({{ column }} rlike '^(?:{{ regex }})$'){%- endmacro %}

{#- Whole days from an instant to now, counted in the session's time zone (UTC in the Spark profile). dbt.datediff
    would cast DuckDB's TIMESTAMPTZ to a plain timestamp first; this keeps DuckDB's own date_diff on the instant. -#}
{% macro days_since(column) -%}
    {{ return(adapter.dispatch('days_since', 'mirror_trade')(column)) }}
{%- endmacro %}
{% macro default__days_since(column) -%}date_diff('day', {{ column }}, now()){%- endmacro %}
{% macro spark__days_since(column) -%}datediff(current_timestamp(), {{ column }}){%- endmacro %}
