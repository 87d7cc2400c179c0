{{ config(materialized='table') }}
-- Per (month after the baseline, partner country, product key) covered on both sides: EU exports (USD, CIF
-- equivalent) and what the partner recorded importing from the 27 members, each with its matched baseline over
-- the baseline years in which the same calendar month is covered on BOTH sides for that product key; and the
-- partner's exports and re-exports to Russia and Belarus with their matched baseline over the years the partner
-- side is covered (a month covered on the partner side only has NULL EU-side columns).
with months as (
    select period, country, product_key, covered_both as covered, eu_exports_usd_cif, partner_imports_usd
    from {{ ref('int_measures__partner_months') }}
),

onward as (
    select period, country, product_key, covered_partner as covered, transit_to_russia_belarus_usd
    from {{ ref('int_measures__partner_months') }}
),

both_months as ({{ matched_baseline_months('months', ['country', 'product_key']) }}),
both_sums as ({{ matched_baseline_sums('months', 'months', ['country', 'product_key'], [],
                                      ['eu_exports_usd_cif', 'partner_imports_usd']) }}),
onward_months as ({{ matched_baseline_months('onward', ['country', 'product_key']) }}),
onward_sums as ({{ matched_baseline_sums('onward', 'onward', ['country', 'product_key'], [],
                                        ['transit_to_russia_belarus_usd']) }})

select
    m.period,
    m.country,
    m.product_key,
    m.covered and bm.baseline_years is not null as compared_both,
    bm.baseline_years as mirror_baseline_years,
    bm.baseline_periods as mirror_baseline_periods,
    case when m.covered and bm.baseline_years is not null then m.eu_exports_usd_cif end as eu_exports_usd_cif,
    case when m.covered and bm.baseline_years is not null
        then {{ matched_baseline_value('bs.eu_exports_usd_cif_baseline_sum', 'bm.baseline_years') }}
    end as baseline_eu_exports_usd_cif,
    case when m.covered and bm.baseline_years is not null then m.partner_imports_usd end as partner_imports_usd,
    case when m.covered and bm.baseline_years is not null
        then {{ matched_baseline_value('bs.partner_imports_usd_baseline_sum', 'bm.baseline_years') }}
    end as baseline_partner_imports_usd,
    o.covered and om.baseline_years is not null as compared_onward,
    om.baseline_years as onward_baseline_years,
    om.baseline_periods as onward_baseline_periods,
    case when o.covered and om.baseline_years is not null then o.transit_to_russia_belarus_usd end
        as transit_to_russia_belarus_usd,
    case when o.covered and om.baseline_years is not null
        then {{ matched_baseline_value('os.transit_to_russia_belarus_usd_baseline_sum', 'om.baseline_years') }}
    end as baseline_transit_to_russia_belarus_usd
from months as m
inner join onward as o on m.period = o.period and m.country = o.country and m.product_key = o.product_key
left join both_months as bm
    on m.country = bm.country and m.product_key = bm.product_key and month(m.period) = bm.calendar_month
left join both_sums as bs
    on m.country = bs.country and m.product_key = bs.product_key and month(m.period) = bs.calendar_month
left join onward_months as om
    on m.country = om.country and m.product_key = om.product_key and month(m.period) = om.calendar_month
left join onward_sums as os
    on m.country = os.country and m.product_key = os.product_key and month(m.period) = os.calendar_month
where {{ after_baseline('m.period') }}
