select
    {{ yyyymm_to_date('period') }} as period,
    flow_code,
    reporter,
    partner,
    cn8,
    previous_value_eur,
    current_value_eur,
    previous_quantity_kg,
    current_quantity_kg,
    previous_sha256,
    current_sha256,
    cast(previous_retrieved_at as {{ type_timestamptz() }}) as previous_retrieved_at,
    cast(current_retrieved_at as {{ type_timestamptz() }}) as current_retrieved_at
from {{ source('comext', 'revisions') }}
