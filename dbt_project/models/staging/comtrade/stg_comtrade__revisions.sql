select
    {{ yyyymm_to_date('period') }} as period,
    reporter,
    partner_m49,
    flow_code,
    hs_code,
    breakdown,
    previous_value_usd,
    current_value_usd,
    previous_manifest_sha256,
    current_manifest_sha256,
    cast(previous_retrieved_at as {{ type_timestamptz() }}) as previous_retrieved_at,
    cast(current_retrieved_at as {{ type_timestamptz() }}) as current_retrieved_at
from {{ source('comtrade', 'revisions') }}
