select
    reporter,
    reporter_m49,
    cast(strptime(period, '%Y%m') as date) as period,
    released,
    status,
    cast(first_released as timestamp) as first_released,
    cast(last_released as timestamp) as last_released,
    dataset_checksum,
    total_records,
    records_fetched,
    previous_vintage_records,
    vintage,
    manifest_sha256,
    scope,
    products,
    cast(retrieved_at as timestamptz) as retrieved_at
from {{ source('comtrade', 'availability') }}
