{#- dbt's unit tests cast every fixture value from text (safe_cast). DuckDB reads a list from its text, so fixtures
    write arrays as DuckDB does ("[854150]", "['AG6']", "[2020-06-01, 2021-06-01]", "[]"); Spark casts no text to an
    array, and dbt-spark's own spark__safe_cast only strips the quotes. This override reads such a fixture value as
    the array of its items, typed like the column; every other value goes the way dbt-spark casts it. It is found
    before dbt-spark's because the root project's macros come first in dbt's own namespace. -#}
{% macro spark__safe_cast(field, type) -%}
    {%- set text = field.strip() if field is string else '' -%}
    {%- set is_complex = type.lower().startswith('struct') or type.lower().startswith('array') or type.lower().startswith('map') -%}
    {%- if type.lower().startswith('array') and text.startswith("'[") and text.endswith("]'") -%}
        {%- set items = [] -%}
        {%- for item in text[2:-2].replace("''", "'").split(',') if item.strip() -%}
            {%- do items.append(dbt.string_literal(dbt.escape_single_quotes(item.strip().strip("'").strip('"')))) -%}
        {%- endfor -%}
        cast(array({{ items | join(', ') }}) as {{ type }})
    {%- else -%}
        {%- set field_clean = field.strip('"').strip("'") if (is_complex and field is string) else field -%}
        cast({{ field_clean }} as {{ type }})
    {%- endif -%}
{%- endmacro %}
