{#- The matched baseline, one definition for every measure (SOURCES.md section 5: trade is seasonal).
    A month is compared with the same calendar month of the baseline years (vars baseline_start..baseline_end),
    averaged over the baseline years in which that calendar month is covered; a covered month without a row counts
    as zero. `coverage` is a relation with `period`, the entity columns and a boolean `covered` (for a two-sided
    measure: covered on both sides). -#}

{% macro in_baseline(column) -%}
    {{ column }} between cast('{{ var("baseline_start") }}' as date) and cast('{{ var("baseline_end") }}' as date)
{%- endmacro %}

{% macro after_baseline(column) -%}
    {{ column }} > cast('{{ var("baseline_end") }}' as date)
{%- endmacro %}

{#- Per entity and calendar month: how many baseline years are covered, and which months they are. -#}
{% macro matched_baseline_months(coverage, entity_cols) -%}
    select
        {% for c in entity_cols %}{{ c }}, {% endfor %}
        month(period) as calendar_month,
        count(*) as baseline_years,
        {{ sorted_array_agg('period') }} as baseline_periods
    from {{ coverage }}
    where covered and {{ in_baseline('period') }}
    group by {% for c in entity_cols %}{{ c }}, {% endfor %}month(period)
{%- endmacro %}

{#- Per entity, key and calendar month: the sums of each measure over the covered baseline months. -#}
{% macro matched_baseline_sums(values, coverage, entity_cols, key_cols, measures) -%}
    select
        {% for c in entity_cols + key_cols %}v.{{ c }}, {% endfor %}
        month(v.period) as calendar_month,
        {% for m in measures %}sum(v.{{ m }}) as {{ m }}_baseline_sum{{ "," if not loop.last }}{% endfor %}
    from {{ values }} as v
    inner join {{ coverage }} as c
        on v.period = c.period{% for col in entity_cols %} and v.{{ col }} = c.{{ col }}{% endfor %}
    where c.covered and {{ in_baseline('v.period') }}
    group by {% for c in entity_cols + key_cols %}v.{{ c }}, {% endfor %}month(v.period)
{%- endmacro %}

{#- The matched baseline of one month: the baseline sum over the covered years, to the cent. -#}
{% macro matched_baseline_value(sum_column, years_column) -%}
    cast(round(coalesce({{ sum_column }}, 0) / {{ years_column }}, 2) as decimal(38, 2))
{%- endmacro %}
