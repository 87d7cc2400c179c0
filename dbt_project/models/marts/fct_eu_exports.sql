{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='period',
        on_schema_change='fail',
    )
}}
-- Months are replaced whole: a run deletes its window's months and inserts them again from the lake.
select *
from {{ ref('int_comext__extra_eu_exports') }}
