{% test matches_regex(model, column_name, regex) %}
select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is not null
  and not {{ regex_full_match(column_name, regex) }}
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

{% test null_where(model, column_name, condition) %}
{#- The column must be NULL wherever `condition` holds (e.g. no value shown where coverage is missing). -#}
select *
from {{ model }}
where ({{ condition }}) and {{ column_name }} is not null
{% endtest %}

{% test finite_or_null_with_reason(model, column_name, reason) %}
{#- A ratio is a finite number, or NULL with its reason stated in `reason`. -#}
select *
from {{ model }}
where ({{ column_name }} is not null and not {{ is_finite(column_name) }})
   or (({{ column_name }} is null) <> ({{ reason }} is not null))
{% endtest %}

{% test signals_only_after_baseline(model) %}
{#- Issue: a ranking of pre-invasion months is meaningless (the baseline is those months themselves). -#}
select *
from {{ model }}
where period <= cast('{{ var("baseline_end") }}' as date)
{% endtest %}
