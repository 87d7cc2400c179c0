{% test matches_regex(model, column_name, regex) %}
select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is not null
  and not regexp_full_match({{ column_name }}, '{{ regex }}')
{% endtest %}

{% test non_negative(model, column_name) %}
select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} < 0
{% endtest %}

{% test unique_combination(model, combination) %}
select {{ combination | join(', ') }}, count(*) as n
from {{ model }}
group by {{ combination | join(', ') }}
having count(*) > 1
{% endtest %}

{% test null_exactly_when(model, column_name, condition) %}
{#- The column must be NULL exactly for the rows where `condition` holds. -#}
select *
from {{ model }}
where ({{ column_name }} is null) <> coalesce(({{ condition }}), false)
{% endtest %}

{% test all_true(model, column_name) %}
select *
from {{ model }}
where not coalesce({{ column_name }}, false)
{% endtest %}
