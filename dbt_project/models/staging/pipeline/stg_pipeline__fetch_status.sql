select
    source,
    cast(strptime(period, '%Y%m') as date) as period,
    attempted_at,
    status,
    error
from {{ source('pipeline', 'fetch_status') }}
