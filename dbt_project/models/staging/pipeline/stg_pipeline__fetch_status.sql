select
    source,
    {{ yyyymm_to_date('period') }} as period,
    attempted_at,
    status,
    error
from {{ source('pipeline', 'fetch_status') }}
