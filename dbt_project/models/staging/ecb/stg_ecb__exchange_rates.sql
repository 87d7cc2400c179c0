select
    period,
    usd_per_eur,
    series_key,
    source_file,
    source_sha256,
    retrieved_at
from {{ source('ecb', 'exchange_rates') }}
