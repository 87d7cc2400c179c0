{{ config(severity='warn') }}
-- Every HS6 code the EU exported should be in the concordance; one that is not is compared as its own product.
select distinct e.hs_edition, e.hs6
from {{ ref('fct_eu_exports') }} as e
where e.hs6 is not null and e.product_key is null and e.hs_edition in ('HS2017', 'HS2022')
  and {{ in_run_window('e.period') }}
