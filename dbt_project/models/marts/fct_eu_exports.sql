{{ config(**months_replaced_whole(unique_key='period')) }}
-- Months are replaced whole: a run deletes its window's months and inserts them again from the lake.
select *
from {{ ref('int_comext__extra_eu_exports') }}
