select
    reporter,
    reporter_m49,
    {{ yyyymm_to_date('period') }} as period,
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
    cast(retrieved_at as {{ type_timestamptz() }}) as retrieved_at
-- partitions written before the partners were recorded have no such column: it reads as NULL (unknown)
from {{ with_column(source('comtrade', 'availability'), 'partners', type_array('integer')) }}
