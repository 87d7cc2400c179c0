-- Routes with more than one hop into Russia or Belarus, one row per (period, route, hs6):
--   two hops    EU -> X -> D         (X a watched Comtrade reporter, D = RU or BY)
--   three hops  EU -> X -> Y -> D    (X, Y watched reporters, X <> Y)
-- Each leg is valued as its reporter recorded it, in USD:
--   first leg   EU -> X: the 27 members' exports to X (Comext, FOB, EUR at the month's ECB rate, to the cent)
--   other legs  A -> B:  A's exports + re-exports to B (Comtrade X + RX, FOB) when A reported the month and the
--               code; else B's imports from A (Comtrade M, CIF) when B did; else NULL with leg_null_reason.
--               A covered reporter without a row is a real zero. Russia and Belarus report nothing: the last leg
--               is always the transit country's own report.
-- Each leg against its matched baseline (macros/matched_baseline.sql): the leg's value of the row's product key
-- (marts.dim_products, so that 2022 HS2022 codes meet their HS2017 predecessors) in the same calendar month of
-- the baseline years the leg is covered in, averaged over those years.
--   <leg>_vs_baseline  = the leg's value of the product key in the month / <leg>_baseline_usd
--   smallest_leg_usd   = least(first, middle, last leg)  -- at most this much can have passed all the way
--   passable_share     = smallest_leg_usd / first_leg_usd ("what could have passed all the way")
-- Products: the watched ones (CHP list, goods named in the sanctions debate) by default, every code with the var
-- route_products = 'all'.
-- A row exists when goods were recorded on the route: two hops when either leg is non-zero; three hops when the
-- middle leg is non-zero, or when nobody reported the middle leg while the first and last are non-zero.
{{ config(**rebuilt_by('period')) }}
{% set hs2022_from = '2022-01-01' %}
{#- the codes of a product key in the edition of the baseline month -#}
{% set key_codes = "coalesce(case when rx.period < date '" ~ hs2022_from ~ "' then pk.hs2017_codes else pk.hs2022_codes end, " ~ array_literal(['k.product_key']) ~ ")" %}
with countries as (
    select distinct country from {{ ref('int_mirror__country_months') }}
),

destinations as (
    select 'RU' as destination
    union all
    select 'BY' as destination
),

-- Who reports what in a month: each watched reporter (the codes it fetched), and the EU (every code, once the
-- Comext month and the ECB rate are there).
reporting as (
    select
        period,
        country,
        partner_released as released,
        partner_products as products,
        partner_counterparts as counterparts,
        false as all_counterparts,
        case when not partner_released then 'did not release the month' end as not_released_reason
    from {{ ref('int_mirror__country_months') }}
    union all
    select
        period,
        'EU' as country,
        bool_or(eu_month_loaded) and max(usd_per_eur) is not null as released,
        {{ array_literal(["'AG6'"]) }} as products,
        cast(null as {{ type_array(dbt.type_string()) }}) as counterparts,
        true as all_counterparts,
        case
            when not bool_or(eu_month_loaded) then 'Comext month not loaded'
            when max(usd_per_eur) is null then 'no ECB rate for the month'
        end as not_released_reason
    from {{ ref('int_mirror__country_months') }}
    group by period
),

eu_legs as (
    select
        e.period,
        'EU' as exporter,
        e.partner as importer,
        e.hs6,
        round(sum(e.value_eur) * fx.usd_per_eur, 2) as exporter_usd,
        cast(null as decimal(38, 4)) as importer_usd
    from {{ ref('fct_eu_exports') }} as e
    inner join countries as c on e.partner = c.country
    left join {{ ref('dim_fx_monthly') }} as fx on e.period = fx.period
    where e.hs6 is not null and ({{ in_rebuilt_months('e.period') }} or {{ in_baseline('e.period') }})
    group by e.period, e.partner, e.hs6, fx.usd_per_eur
),

exporter_reports as (
    select
        t.period,
        t.reporter as exporter,
        t.partner as importer,
        t.hs_code as hs6,
        sum(t.value_usd) as exporter_usd,
        cast(null as decimal(38, 4)) as importer_usd
    from {{ ref('fct_partner_trade') }} as t
    inner join countries as c on t.reporter = c.country
    where t.hs_level = 6 and ({{ in_rebuilt_months('t.period') }} or {{ in_baseline('t.period') }})
      and t.flow in ('X', 'RX')
      and t.partner <> t.reporter
      and (t.partner in (select destination from destinations) or t.partner in (select country from countries))
    group by t.period, t.reporter, t.partner, t.hs_code
),

importer_reports as (
    select
        t.period,
        t.partner as exporter,
        t.reporter as importer,
        t.hs_code as hs6,
        cast(null as decimal(38, 4)) as exporter_usd,
        sum(t.value_usd) as importer_usd
    from {{ ref('fct_partner_trade') }} as t
    inner join countries as c on t.reporter = c.country
    where t.hs_level = 6 and ({{ in_rebuilt_months('t.period') }} or {{ in_baseline('t.period') }})
      and t.flow = 'M'
      and t.partner <> t.reporter
      and t.partner in (select country from countries)
    group by t.period, t.partner, t.reporter, t.hs_code
),

-- Every leg with a row on either side; a side without a row has NULL here (a zero only if that side is covered).
legs as (
    select period, exporter, importer, hs6, sum(exporter_usd) as exporter_usd, sum(importer_usd) as importer_usd
    from (
        select * from eu_legs
        union all
        select * from exporter_reports
        union all
        select * from importer_reports
    )
    {% if var('route_products') == 'watched' -%}
    -- var route_products = 'watched' (the default): the CHP list and the goods named in the sanctions debate. At every
    -- code the three-hop candidates grow with codes x countries^2: a benchmark warehouse of 1-million-row months ran
    -- out of its 512 MB at all codes, so 'all' is for a bigger machine.
    where hs6 in (
        select hs6 from {{ ref('int_reference__product_flags') }} where chp_tier is not null or product_group is not null
    )
    {%- endif %}
    group by period, exporter, importer, hs6
),

nonzero as (
    -- the routes of the months this run rebuilds (legs also holds the baseline months, for the baselines)
    select * from legs
    where (coalesce(exporter_usd, 0) <> 0 or coalesce(importer_usd, 0) <> 0) and {{ in_rebuilt_months('period') }}
),

two_hop as (
    select c.country as first_country, cast(null as {{ dbt.type_string() }}) as second_country, d.destination
    from countries as c cross join destinations as d
),

three_hop as (
    select x.country as first_country, y.country as second_country, d.destination
    from countries as x
    inner join countries as y on x.country <> y.country
    cross join destinations as d
),

candidates as (
    select n.period, r.first_country, r.second_country, r.destination, n.hs6
    from nonzero as n
    inner join two_hop as r on n.exporter = 'EU' and n.importer = r.first_country
    union
    select n.period, r.first_country, r.second_country, r.destination, n.hs6
    from nonzero as n
    inner join two_hop as r on n.exporter = r.first_country and n.importer = r.destination
    union
    select n.period, r.first_country, r.second_country, r.destination, n.hs6
    from nonzero as n
    inner join three_hop as r on n.exporter = r.first_country and n.importer = r.second_country
    union
    -- the first and last legs carried the code while neither X nor Y reported trade between them
    select a.period, r.first_country, r.second_country, r.destination, a.hs6
    from nonzero as a
    inner join three_hop as r on a.exporter = 'EU' and a.importer = r.first_country
    inner join nonzero as b
        on a.period = b.period and a.hs6 = b.hs6 and b.exporter = r.second_country and b.importer = r.destination
    left join reporting as rx on a.period = rx.period and r.first_country = rx.country
    left join reporting as ry on a.period = ry.period and r.second_country = ry.country
    where not {{ route_side_covers('rx', array_literal(['a.hs6']), 'r.second_country') }}
      and not {{ route_side_covers('ry', array_literal(['a.hs6']), 'r.first_country') }}
),

route_legs as (
    select *, 'first' as leg, 'EU' as exporter, first_country as importer from candidates
    union all
    select *, 'middle' as leg, first_country as exporter, second_country as importer
    from candidates where second_country is not null
    union all
    select *, 'last' as leg, coalesce(second_country, first_country) as exporter, destination as importer
    from candidates
),

-- Each leg-month-code the model values: those with rows, and those the routes need.
leg_codes as (
    select period, exporter, importer, hs6 from legs
    union
    select period, exporter, importer, hs6 from route_legs
),

coverage_of_codes as (
    select
        lc.*,
        {{ route_side_covers('rx', array_literal(['lc.hs6']), 'lc.importer') }} as exporter_covered,
        -- the first leg is the EU's own record; the partner's imports from the EU are fct_mirror_flows' business
        lc.exporter <> 'EU' and {{ route_side_covers('ri', array_literal(['lc.hs6']), 'lc.exporter') }} as importer_covered,
        case
            when rx.country is null then lc.exporter || ' is not a reporter'
            when not rx.released then lc.exporter || ' ' || rx.not_released_reason
            when not {{ array_contains('rx.products', "'AG6'") }} and not {{ array_contains('rx.products', 'lc.hs6') }}
                then lc.exporter || ' did not fetch the code'
            else lc.exporter || ' did not fetch trade with ' || lc.importer
        end as exporter_reason,
        case
            when lc.exporter = 'EU' then null
            when ri.country is null then lc.importer || ' is not a reporter'
            when not ri.released then lc.importer || ' ' || ri.not_released_reason
            when not {{ array_contains('ri.products', "'AG6'") }} and not {{ array_contains('ri.products', 'lc.hs6') }}
                then lc.importer || ' did not fetch the code'
            else lc.importer || ' did not fetch trade with ' || lc.exporter
        end as importer_reason
    from leg_codes as lc
    left join reporting as rx on lc.period = rx.period and lc.exporter = rx.country
    left join reporting as ri on lc.period = ri.period and lc.importer = ri.country
),

resolved as (
    select
        c.period,
        c.exporter,
        c.importer,
        c.hs6,
        coalesce(pf.product_key, c.hs6) as product_key,
        case
            when c.exporter_covered then coalesce(l.exporter_usd, 0)
            when c.importer_covered then coalesce(l.importer_usd, 0)
        end as value_usd,
        case when c.exporter_covered then 'exporter' when c.importer_covered then 'importer' end as reported_by,
        case when not c.exporter_covered and not c.importer_covered
            then 'not reported: ' || concat_ws('; ', c.exporter_reason, c.importer_reason)
        end as null_reason
    from coverage_of_codes as c
    left join legs as l
        on c.period = l.period and c.exporter = l.exporter and c.importer = l.importer and c.hs6 = l.hs6
    left join {{ ref('int_reference__product_flags') }} as pf
        on pf.hs_edition = case when c.period < date '{{ hs2022_from }}' then 'HS2017' else 'HS2022' end
        and c.hs6 = pf.hs6
),

-- A leg's value per product key and month: the sum over its HS6 codes of that month's edition.
key_months as (
    select
        period,
        exporter,
        importer,
        product_key,
        sum(value_usd) as value_usd,
        bool_and(value_usd is not null) as complete
    from resolved
    group by period, exporter, importer, product_key
),

product_keys as (
    select product_key, min(hs2017_codes) as hs2017_codes, min(hs2022_codes) as hs2022_codes
    from {{ ref('int_reference__product_flags') }}
    group by product_key
),

-- Baseline coverage per leg and product key: a side covers a baseline month when it released it and fetched
-- every code of the key in that month's edition (or every code).
leg_keys as (
    select distinct exporter, importer, product_key from resolved
),

coverage as (
    select
        rx.period,
        k.exporter,
        k.importer,
        k.product_key,
        {{ route_side_covers('rx', key_codes, 'k.importer') }}
            or (k.exporter <> 'EU' and {{ route_side_covers('ri', key_codes, 'k.exporter') }}) as covered
    from leg_keys as k
    inner join reporting as rx on k.exporter = rx.country
    left join reporting as ri on k.importer = ri.country and rx.period = ri.period
    left join product_keys as pk on k.product_key = pk.product_key
    where {{ in_baseline('rx.period') }}
),

baseline_months as (
    {{ matched_baseline_months('coverage', ['exporter', 'importer', 'product_key']) }}
),

baseline_sums as (
    {{ matched_baseline_sums('key_months', 'coverage', ['exporter', 'importer', 'product_key'], [], ['value_usd']) }}
),

leg_detail as (
    select
        rl.period,
        rl.first_country,
        rl.second_country,
        rl.destination,
        rl.hs6,
        rl.leg,
        r.product_key,
        r.value_usd,
        r.reported_by,
        r.null_reason,
        case when bm.baseline_years > 0
            then {{ matched_baseline_value('bs.value_usd_baseline_sum', 'bm.baseline_years') }}
        end as baseline_usd,
        km.value_usd as key_value_usd,
        km.complete as key_complete
    from route_legs as rl
    inner join resolved as r
        on rl.period = r.period and rl.exporter = r.exporter and rl.importer = r.importer and rl.hs6 = r.hs6
    left join key_months as km
        on rl.period = km.period and rl.exporter = km.exporter and rl.importer = km.importer
        and r.product_key = km.product_key
    left join baseline_months as bm
        on rl.exporter = bm.exporter and rl.importer = bm.importer and r.product_key = bm.product_key
        and month(rl.period) = bm.calendar_month
    left join baseline_sums as bs
        on rl.exporter = bs.exporter and rl.importer = bs.importer and r.product_key = bs.product_key
        and month(rl.period) = bs.calendar_month
),

routes as (
    select
        period,
        first_country,
        second_country,
        destination,
        hs6,
        min(product_key) as product_key,
        {% for leg in ['first', 'middle', 'last'] %}
        max(value_usd) filter (where leg = '{{ leg }}') as {{ leg }}_leg_usd,
        max(reported_by) filter (where leg = '{{ leg }}') as {{ leg }}_leg_reported_by,
        max(null_reason) filter (where leg = '{{ leg }}') as {{ leg }}_leg_null_reason,
        max(baseline_usd) filter (where leg = '{{ leg }}') as {{ leg }}_leg_baseline_usd,
        max(case when key_complete and baseline_usd > 0 then round(key_value_usd / baseline_usd, 6) end)
            filter (where leg = '{{ leg }}') as {{ leg }}_leg_vs_baseline,
        {% endfor %}
        bool_or(value_usd is null) as any_leg_missing
    from leg_detail
    group by period, first_country, second_country, destination, hs6
)

select
    r.period,
    concat_ws('>', 'EU', r.first_country, r.second_country, r.destination) as route,
    case when r.second_country is null then 2 else 3 end as hops,
    r.first_country,
    r.second_country,
    r.destination,
    r.hs6,
    case when r.period < date '{{ hs2022_from }}' then 'HS2017' else 'HS2022' end as hs_edition,
    r.product_key,
    pf.chp_tier,
    pf.is_export_restricted,
    r.first_leg_usd,
    r.first_leg_reported_by,
    r.first_leg_null_reason,
    r.first_leg_baseline_usd,
    r.first_leg_vs_baseline,
    r.middle_leg_usd,
    r.middle_leg_reported_by,
    case when r.second_country is null then 'two-hop route: no middle leg' else r.middle_leg_null_reason end
        as middle_leg_null_reason,
    r.middle_leg_baseline_usd,
    r.middle_leg_vs_baseline,
    r.last_leg_usd,
    r.last_leg_reported_by,
    r.last_leg_null_reason,
    r.last_leg_baseline_usd,
    r.last_leg_vs_baseline,
    case when not r.any_leg_missing
        then least(r.first_leg_usd, coalesce(r.middle_leg_usd, r.first_leg_usd), r.last_leg_usd)
    end as smallest_leg_usd,
    case when not r.any_leg_missing and r.first_leg_usd > 0
        then round(least(r.first_leg_usd, coalesce(r.middle_leg_usd, r.first_leg_usd), r.last_leg_usd)
                   / r.first_leg_usd, 6)
    end as passable_share,
    case
        when r.any_leg_missing then 'a leg was not reported'
        when r.first_leg_usd = 0 then 'no EU exports on the first leg'
    end as passable_null_reason
from routes as r
left join {{ ref('int_reference__product_flags') }} as pf
    on pf.hs_edition = case when r.period < date '{{ hs2022_from }}' then 'HS2017' else 'HS2022' end
    and r.hs6 = pf.hs6
