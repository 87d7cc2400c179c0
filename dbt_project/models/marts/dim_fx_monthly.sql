-- Every month the ECB series has given us (all of them, not just this run's: the table is tiny).
select
    period,
    usd_per_eur,
    cast(1 / usd_per_eur as decimal(18, 10)) as eur_per_usd,
    series_key,
    source_file,
    source_sha256,
    retrieved_at
from {{ ref('stg_ecb__exchange_rates') }}
