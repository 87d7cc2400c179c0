{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_partner_trade'}}}) }}
-- Without a key the goods named in the sanctions debate are fetched at HS6 and as HS4 totals: the HS4 row is the
-- check that the HS6 leaves add up. Each (period, reporter, flow, partner, HS4) whose total differs from the sum
-- of its HS6 rows by more than a dollar, for reporter-months that asked for those HS6 codes, is a warning (leaves
-- withheld as confidential, or a reporter's own inconsistency): shown, never blocking, never corrected.
with fetched as (
    select period, country as reporter, partner_products as products
    from {{ ref('int_mirror__country_months') }}
    where partner_released
),

hs4 as (
    select period, reporter, flow, partner, hs_code as hs4, value_usd
    from {{ ref('fct_partner_trade') }}
    where hs_level = 4
      and hs_code in (select hs4 from {{ ref('sanctions_debate_goods') }})
      and {{ in_run_window('period') }}
),

leaves as (
    select period, reporter, flow, partner, left(hs_code, 4) as hs4, sum(value_usd) as value_usd
    from {{ ref('fct_partner_trade') }}
    where hs_level = 6 and {{ in_run_window('period') }}
    group by period, reporter, flow, partner, left(hs_code, 4)
)

select h.period, h.reporter, h.flow, h.partner, h.hs4, h.value_usd as hs4_usd, coalesce(l.value_usd, 0) as leaves_usd
from hs4 as h
inner join fetched as f on h.period = f.period and h.reporter = f.reporter
left join leaves as l
    on h.period = l.period and h.reporter = l.reporter and h.flow = l.flow and h.partner = l.partner
    and h.hs4 = l.hs4
where ({{ array_contains('f.products', "'AG6'") }} or {{ array_length(array_filter('f.products', 'c', 'length(c) = 6 and left(c, 4) = h.hs4')) }} > 0)
  and abs(h.value_usd - coalesce(l.value_usd, 0)) > 1
