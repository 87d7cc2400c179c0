-- What the signal ranking could and could not judge, per (window end month, transit country): product keys with
-- EU exports to the country in the 12-month window, how many were ranked, and why the rest were not. Rows that
-- cannot be scored live here, not as NULL rows in fct_circumvention_signals.
{{ config(**rebuilt_by('period', reach_months=11)) }}
with candidates as (
    select distinct t.period, m.destination as transit_country, m.product_key
    from (
        select distinct period from {{ ref('int_measures__eu_destination_months') }}
        where {{ in_rebuilt_months('period', 11) }}
    ) as t
    inner join {{ ref('int_measures__eu_destination_months') }} as m
        on m.period between t.period - interval 11 month and t.period
    where m.destination in ({{ "'" + var('transit_countries') | join("', '") + "'" }})
),

scored as (
    select period, transit_country, product_key, rank_in_month from {{ ref('fct_circumvention_signals') }}
    where {{ in_rebuilt_months('period', 11) }}
)

select
    c.period,
    c.transit_country,
    count(*) as product_keys,
    count(s.product_key) as product_keys_scored,
    count(s.rank_in_month) as product_keys_ranked,
    count(*) - count(s.product_key) as product_keys_not_scored,
    case when count(*) > count(s.product_key)
        then 'partner side not covered in the window (not released, or the product key not fetched), or no ECB rate'
    end as not_scored_reason
from candidates as c
left join scored as s
    on c.period = s.period and c.transit_country = s.transit_country and c.product_key = s.product_key
group by c.period, c.transit_country
