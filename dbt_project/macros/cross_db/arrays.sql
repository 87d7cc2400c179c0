{#- Arrays (DuckDB lists, Spark arrays): each difference of syntax or behaviour in one macro, dispatched on the
    adapter. DuckDB's rendering is exactly the SQL the models had before they were made portable. Indexes are
    1-based on both. Spark runs with spark.sql.legacy.sizeOfNull=false (profiles.yml), so the length of NULL is
    NULL on both. -#}

{#- An array of SQL expressions, e.g. array_literal(["'AG6'"]) or array_literal(['a.hs6']); [] is the empty array. -#}
{% macro array_literal(items) -%}
    {{ return(adapter.dispatch('array_literal', 'mirror_trade')(items)) }}
{%- endmacro %}
{% macro default__array_literal(items) -%}[{{ items | join(', ') }}]{%- endmacro %}
{% macro spark__array_literal(items) -%}array({{ items | join(', ') }}){%- endmacro %}

{#- The type "array of element_type" (element_type in SQL that both read: string, integer, date). -#}
{% macro type_array(element_type) -%}
    {{ return(adapter.dispatch('type_array', 'mirror_trade')(element_type)) }}
{%- endmacro %}
{% macro default__type_array(element_type) -%}{{ element_type }}[]{%- endmacro %}
{% macro spark__type_array(element_type) -%}array<{{ element_type }}>{%- endmacro %}

{% macro array_contains(array, value) -%}
    {{ return(adapter.dispatch('array_contains', 'mirror_trade')(array, value)) }}
{%- endmacro %}
{% macro default__array_contains(array, value) -%}list_contains({{ array }}, {{ value }}){%- endmacro %}
{% macro spark__array_contains(array, value) -%}array_contains({{ array }}, {{ value }}){%- endmacro %}

{#- Does `array` hold every element of `values`? NULL when either is NULL, as DuckDB's list_has_all. -#}
{% macro array_contains_all(array, values) -%}
    {{ return(adapter.dispatch('array_contains_all', 'mirror_trade')(array, values)) }}
{%- endmacro %}
{% macro default__array_contains_all(array, values) -%}list_has_all({{ array }}, {{ values }}){%- endmacro %}
{% macro spark__array_contains_all(array, values) -%}
    (size(array_except({{ values }}, {{ array }})) = 0)
{%- endmacro %}

{% macro array_length(array) -%}
    {{ return(adapter.dispatch('array_length', 'mirror_trade')(array)) }}
{%- endmacro %}
{% macro default__array_length(array) -%}len({{ array }}){%- endmacro %}
{% macro spark__array_length(array) -%}size({{ array }}){%- endmacro %}

{#- The element at a 1-based position. -#}
{% macro array_element(array, position) -%}
    {{ return(adapter.dispatch('array_element', 'mirror_trade')(array, position)) }}
{%- endmacro %}
{% macro default__array_element(array, position) -%}{{ array }}[{{ position }}]{%- endmacro %}
{% macro spark__array_element(array, position) -%}element_at({{ array }}, {{ position }}){%- endmacro %}

{% macro array_join(array, separator) -%}
    {{ return(adapter.dispatch('array_join', 'mirror_trade')(array, separator)) }}
{%- endmacro %}
{% macro default__array_join(array, separator) -%}array_to_string({{ array }}, {{ separator }}){%- endmacro %}
{% macro spark__array_join(array, separator) -%}array_join({{ array }}, {{ separator }}){%- endmacro %}

{#- The elements of `array` for which `predicate` (SQL over the variable `var`) holds. -#}
{% macro array_filter(array, var, predicate) -%}
    {{ return(adapter.dispatch('array_filter', 'mirror_trade')(array, var, predicate)) }}
{%- endmacro %}
{% macro default__array_filter(array, var, predicate) -%}
    list_filter({{ array }}, lambda {{ var }}: {{ predicate }})
{%- endmacro %}
{% macro spark__array_filter(array, var, predicate) -%}
    filter({{ array }}, {{ var }} -> {{ predicate }})
{%- endmacro %}

{#- Aggregate: the sorted array of `expr` over the group's rows (those where `where` holds, when given), distinct
    values only if `distinct`; NULL when there is no such row (DuckDB's list() of no rows; Spark's collect_list
    would give an empty array, hence the count). -#}
{% macro sorted_array_agg(expr, distinct=false, where=none) -%}
    {{ return(adapter.dispatch('sorted_array_agg', 'mirror_trade')(expr, distinct, where)) }}
{%- endmacro %}
{% macro default__sorted_array_agg(expr, distinct, where) -%}
    list_sort(list({{ 'distinct ' if distinct }}{{ expr }}){{ ' filter (where ' ~ where ~ ')' if where is not none }})
{%- endmacro %}
{% macro spark__sorted_array_agg(expr, distinct, where) -%}
    {%- set filter = ' filter (where ' ~ where ~ ')' if where is not none else '' -%}
    case when count({{ expr }}){{ filter }} > 0
        then array_sort({{ 'collect_set' if distinct else 'collect_list' }}({{ expr }}){{ filter }}) end
{%- endmacro %}

{#- Aggregate: the sorted distinct elements of the arrays `array_expr` over the group's rows. -#}
{% macro sorted_array_union_agg(array_expr) -%}
    {{ return(adapter.dispatch('sorted_array_union_agg', 'mirror_trade')(array_expr)) }}
{%- endmacro %}
{% macro default__sorted_array_union_agg(array_expr) -%}
    list_sort(list_distinct(flatten(list({{ array_expr }}))))
{%- endmacro %}
{% macro spark__sorted_array_union_agg(array_expr) -%}
    array_sort(array_distinct(flatten(collect_list({{ array_expr }}))))
{%- endmacro %}

{#- One row per element of `array`, in a select list (DuckDB unnest, Spark explode). -#}
{% macro array_explode(array) -%}
    {{ return(adapter.dispatch('array_explode', 'mirror_trade')(array)) }}
{%- endmacro %}
{% macro default__array_explode(array) -%}unnest({{ array }}){%- endmacro %}
{% macro spark__array_explode(array) -%}explode({{ array }}){%- endmacro %}

{#- `array` without repeated elements. -#}
{% macro array_distinct(array) -%}
    {{ return(adapter.dispatch('array_distinct', 'mirror_trade')(array)) }}
{%- endmacro %}
{% macro default__array_distinct(array) -%}list_distinct({{ array }}){%- endmacro %}
{% macro spark__array_distinct(array) -%}array_distinct({{ array }}){%- endmacro %}
