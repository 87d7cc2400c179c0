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
    partners as partner_m49s,
    cast(retrieved_at as timestamptz) as retrieved_at
from (
    -- partitions written before the partners were recorded have no such column: it reads as NULL (unknown)
    select * from {{ source('comtrade', 'availability') }}
    union all by name
    select cast(null as integer[]) as partners where false
)
