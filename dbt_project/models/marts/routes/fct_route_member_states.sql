-- Which member states' exports drove the rise of a route's first leg (EU -> X), per (year, route, member state):
-- each member's exports to X of the route's product keys over the year's compared months (months after the
-- baseline in which fct_trade_routes holds the route with a first leg), against the sum of those months' matched
-- baselines (macros/matched_baseline.sql: same calendar month of the baseline years, over the covered years).
--   rise_eur        = value_eur - baseline_value_eur
--   route_rise_eur  = the sum of rise_eur over the members of the (year, route)
--   share_of_rise   = rise_eur / route_rise_eur, only when the first leg rose (route_rise_eur > 0)
--   rank_in_route   = 1 for the member with the largest rise
-- Comext values in EUR: the member-state split is the EU's own record, before any exchange rate.
{{ config(**rebuilt_by('year')) }}
with routes as (
    select distinct period, route, first_country, product_key
    from {{ ref('fct_trade_routes') }}
    where first_leg_usd is not null and {{ after_baseline('period') }} and {{ in_rebuilt_years('year(period)') }}
),

exports as (
    select
        e.period,
        e.reporter,
        e.partner,
        coalesce(e.product_key, e.hs6) as product_key,
        sum(e.value_eur) as value_eur
    from {{ ref('fct_eu_exports') }} as e
    where e.hs6 is not null and e.partner in (select distinct first_country from routes)
      and ({{ in_rebuilt_years('year(e.period)') }} or {{ in_baseline('e.period') }})
    group by e.period, e.reporter, e.partner, coalesce(e.product_key, e.hs6)
),

coverage as (
    select period, covered from {{ ref('int_measures__comext_months') }}
),

baseline_months as (
    {{ matched_baseline_months('coverage', []) }}
),

baseline_sums as (
    {{ matched_baseline_sums('exports', 'coverage', [], ['reporter', 'partner', 'product_key'], ['value_eur']) }}
),

compared as (
    select r.*, bm.baseline_years
    from routes as r
    inner join coverage as c on r.period = c.period and c.covered
    inner join baseline_months as bm on month(r.period) = bm.calendar_month
),

member_keys as (
    select c.period, c.route, c.first_country, c.product_key, c.baseline_years, e.reporter
    from compared as c
    inner join exports as e
        on c.period = e.period and c.first_country = e.partner and c.product_key = e.product_key
    union
    select c.period, c.route, c.first_country, c.product_key, c.baseline_years, bs.reporter
    from compared as c
    inner join baseline_sums as bs
        on c.first_country = bs.partner and c.product_key = bs.product_key and month(c.period) = bs.calendar_month
),

members as (
    select
        year(k.period) as year,
        k.route,
        k.first_country,
        k.reporter,
        count(distinct k.period) as months_compared,
        count(distinct k.product_key) as product_keys,
        sum(coalesce(e.value_eur, 0)) as value_eur,
        sum({{ matched_baseline_value('bs.value_eur_baseline_sum', 'k.baseline_years') }}) as baseline_value_eur
    from member_keys as k
    left join exports as e
        on k.period = e.period and k.reporter = e.reporter and k.first_country = e.partner
        and k.product_key = e.product_key
    left join baseline_sums as bs
        on k.reporter = bs.reporter and k.first_country = bs.partner and k.product_key = bs.product_key
        and month(k.period) = bs.calendar_month
    group by year(k.period), k.route, k.first_country, k.reporter
),

ranked as (
    select
        *,
        value_eur - baseline_value_eur as rise_eur,
        sum(value_eur - baseline_value_eur) over (partition by year, route) as route_rise_eur,
        row_number() over (partition by year, route order by value_eur - baseline_value_eur desc, reporter)
            as rank_in_route
    from members
)

select
    year,
    route,
    first_country,
    reporter as member_state,
    months_compared,
    product_keys,
    value_eur,
    baseline_value_eur,
    rise_eur,
    route_rise_eur,
    case when route_rise_eur > 0 then round(rise_eur / route_rise_eur, 6) end as share_of_rise,
    case when route_rise_eur <= 0 then 'the first leg did not rise against its baseline' end as share_null_reason,
    rank_in_route
from ranked
