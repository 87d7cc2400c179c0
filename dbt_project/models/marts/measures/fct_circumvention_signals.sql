-- Circumvention signals, rebuilt from the research-grade measures: per (window, transit country, product key),
-- the window being the 12 months ending at `period`, for months after the baseline only. Every input is a column:
--   eu_excess_eur        = excess_over_counterfactual_eur (EU exports to the country above what the control
--                          group's growth predicts) when the warehouse holds control destinations, else
--                          transit_rise_eur (above the matched baseline); excess_basis says which
--   eu_excess_usd        = greatest(eu_excess_eur, 0) * usd_per_eur_window (mean ECB rate of the window's months)
--   transit_rise_usd     = greatest(transit_to_russia_belarus_usd - baseline_transit_to_russia_belarus_usd, 0):
--                          the matched rise of the country's exports + re-exports to Russia and Belarus
--   matched_excess_usd   = least(eu_excess_usd, transit_rise_usd)              -- what could have passed through
--   direct_fall_eur      = baseline_eu_to_russia_belarus_eur - eu_to_russia_belarus_eur (same window)
--   direct_factor        = 1 when direct EU exports fell, else 0.5
--   priority_weight      = 4 (CHP tier 1), 3 (tier 2), 2 (3.A/3.B), 1.5 (4.A/4.B), 1.25 (export-restricted or a
--                          good named in the sanctions debate), 1 (anything else)
--   persistence_months   = months of the window in which EU exports to the country and its exports to RU/BY were
--                          both above their matched baselines
--   score                = round(matched_excess_usd * priority_weight * direct_factor * persistence_months / 12
--                          / 1000, 3)
-- Only keys with both sides compared in the window are ranked; the others are counted in signal_coverage.
{% set transit = var('transit_countries') %}
{{ config(**rebuilt_by('period', reach_months=11)) }}
with eu_months as (
    select * from {{ ref('int_measures__eu_destination_months') }}
),

targets as (
    -- the window end months this run rebuilds: its months and the 11 after them
    select distinct period from eu_months where {{ in_rebuilt_months('period', 11) }}
),

eu_window as (
    select
        t.period,
        m.destination,
        m.product_key,
        sum(m.value_eur) as value_eur,
        sum(m.baseline_value_eur) as baseline_value_eur,
        max(m.partners) as partners
    from targets as t
    inner join eu_months as m on m.period between t.period - interval 11 month and t.period
    group by t.period, m.destination, m.product_key
),

window_months as (
    select
        t.period,
        count(distinct m.period) as eu_months_compared,
        min(m.period) as window_first_month,
        avg(fx.usd_per_eur) as usd_per_eur_window
    from targets as t
    inner join (select distinct period from eu_months) as m on m.period between t.period - interval 11 month and t.period
    left join {{ ref('dim_fx_monthly') }} as fx on m.period = fx.period
    group by t.period
),

onward_window as (
    select
        t.period,
        o.country as transit_country,
        o.product_key,
        count(*) as partner_months_compared,
        sum(o.transit_to_russia_belarus_usd) as transit_to_russia_belarus_usd,
        sum(o.baseline_transit_to_russia_belarus_usd) as baseline_transit_to_russia_belarus_usd
    from targets as t
    inner join {{ ref('int_measures__mirror_months') }} as o
        on o.period between t.period - interval 11 month and t.period
    where o.compared_onward
    group by t.period, o.country, o.product_key
),

flagged_months as (
    select
        t.period,
        e.destination as transit_country,
        e.product_key,
        count(*) as persistence_months
    from targets as t
    inner join eu_months as e on e.period between t.period - interval 11 month and t.period
    inner join {{ ref('int_measures__mirror_months') }} as o
        on e.period = o.period and e.destination = o.country and e.product_key = o.product_key
    where o.compared_onward
      and e.value_eur > e.baseline_value_eur
      and o.transit_to_russia_belarus_usd > o.baseline_transit_to_russia_belarus_usd
    group by t.period, e.destination, e.product_key
),

candidates as (
    select
        w.period,
        w.destination as transit_country,
        w.product_key,
        wm.window_first_month,
        wm.eu_months_compared,
        wm.usd_per_eur_window,
        w.value_eur as eu_to_transit_eur,
        w.baseline_value_eur as baseline_eu_to_transit_eur,
        coalesce(d.value_eur, 0) as eu_to_russia_belarus_eur,
        coalesce(d.baseline_value_eur, 0) as baseline_eu_to_russia_belarus_eur,
        coalesce(c.value_eur, 0) as control_eur,
        coalesce(c.baseline_value_eur, 0) as baseline_control_eur,
        coalesce(cp.partners, 0) as control_partners,
        o.partner_months_compared,
        o.transit_to_russia_belarus_usd,
        o.baseline_transit_to_russia_belarus_usd,
        coalesce(f.persistence_months, 0) as persistence_months
    from eu_window as w
    inner join window_months as wm on w.period = wm.period
    left join (
        select period, product_key, sum(value_eur) as value_eur, sum(baseline_value_eur) as baseline_value_eur
        from eu_window where destination in ('RU', 'BY') group by period, product_key
    ) as d on w.period = d.period and w.product_key = d.product_key
    left join eu_window as c on w.period = c.period and w.product_key = c.product_key and c.destination = 'CONTROL'
    left join (
        select period, max(partners) as partners from eu_window where destination = 'CONTROL' group by period
    ) as cp on w.period = cp.period
    left join onward_window as o
        on w.period = o.period and w.destination = o.transit_country and w.product_key = o.product_key
    left join flagged_months as f
        on w.period = f.period and w.destination = f.transit_country and w.product_key = f.product_key
    where w.destination in ({{ "'" + transit | join("', '") + "'" }})
),

measured as (
    select
        c.*,
        p.product_key_kind,
        p.chp_tier,
        p.is_export_restricted,
        p.product_group,
        c.eu_to_transit_eur - c.baseline_eu_to_transit_eur as transit_rise_eur,
        case when c.control_partners > 0 and c.baseline_control_eur > 0
            then c.eu_to_transit_eur
                - cast(round(c.baseline_eu_to_transit_eur * c.control_eur / c.baseline_control_eur, 2) as decimal(38, 2))
        end as excess_over_counterfactual_eur,
        c.baseline_eu_to_russia_belarus_eur - c.eu_to_russia_belarus_eur as direct_fall_eur,
        case
            when p.chp_tier = '1' then 4.0
            when p.chp_tier = '2' then 3.0
            when p.chp_tier in ('3.A', '3.B') then 2.0
            when p.chp_tier in ('4.A', '4.B') then 1.5
            when p.is_export_restricted or p.product_group is not null then 1.25
            else 1.0
        end::decimal(4, 2) as priority_weight
    from candidates as c
    left join {{ ref('int_reference__product_key_flags') }} as p on c.product_key = p.product_key
    where c.partner_months_compared is not null and c.usd_per_eur_window is not null
),

scored as (
    select
        *,
        case when excess_over_counterfactual_eur is not null then 'counterfactual' else 'matched baseline' end
            as excess_basis,
        coalesce(excess_over_counterfactual_eur, transit_rise_eur) as eu_excess_eur,
        cast(round(greatest(coalesce(excess_over_counterfactual_eur, transit_rise_eur), 0) * usd_per_eur_window, 2)
            as decimal(38, 2)) as eu_excess_usd,
        greatest(transit_to_russia_belarus_usd - baseline_transit_to_russia_belarus_usd, 0) as transit_rise_usd,
        case when direct_fall_eur > 0 then 1.0 else 0.5 end::decimal(3, 2) as direct_factor
    from measured
)

select
    period,
    window_first_month,
    transit_country,
    product_key,
    product_key_kind,
    chp_tier,
    is_export_restricted,
    product_group,
    eu_months_compared,
    partner_months_compared,
    eu_to_transit_eur,
    baseline_eu_to_transit_eur,
    transit_rise_eur,
    control_partners,
    excess_over_counterfactual_eur,
    excess_basis,
    eu_excess_eur,
    round(usd_per_eur_window, 6) as usd_per_eur_window,
    eu_excess_usd,
    transit_to_russia_belarus_usd,
    baseline_transit_to_russia_belarus_usd,
    transit_rise_usd,
    least(eu_excess_usd, transit_rise_usd) as matched_excess_usd,
    eu_to_russia_belarus_eur,
    baseline_eu_to_russia_belarus_eur,
    direct_fall_eur,
    direct_factor,
    priority_weight,
    persistence_months,
    cast(round(least(eu_excess_usd, transit_rise_usd) * priority_weight * direct_factor * persistence_months / 12
               / 1000, 3) as decimal(38, 3)) as score,
    case when least(eu_excess_usd, transit_rise_usd) * persistence_months > 0
        then rank() over (
            partition by period, least(eu_excess_usd, transit_rise_usd) * persistence_months > 0
            order by least(eu_excess_usd, transit_rise_usd) * priority_weight * direct_factor * persistence_months desc,
                transit_country, product_key
        )
    end as rank_in_month
from scored
