-- Russia publishes no detailed customs data since early 2022: its imports are rebuilt as the exports to Russia
-- reported by every exporter we hold, per (period, hs6, exporter). EU member states from Comext (EUR, converted
-- with the month's ECB rate), other countries from Comtrade (USD, exports X and re-exports RX kept apart).
-- russia_imports_usd and exporters_covered total each (period, hs6) over the exporters present. Every reporter the
-- warehouse holds is an exporter here (China, Turkey, the UAE, ... as configured); who could not be counted for the
-- month and code is named in missing_exporters (an EU member absent from the Comext month, a watched Comtrade
-- reporter that did not release the month or did not fetch the code), so a total is read as the lower bound it is.
{{ config(**rebuilt_by('period', uses_baseline=false)) }}
with eu as (
    select
        e.period,
        e.hs6,
        e.reporter as exporter,
        'comext' as source,
        sum(e.value_eur) as exports_eur,
        round(sum(e.value_eur) * fx.usd_per_eur, 2) as exports_usd,
        cast(null as decimal(38, 4)) as reexports_usd
    from {{ ref('fct_eu_exports') }} as e
    left join {{ ref('dim_fx_monthly') }} as fx on e.period = fx.period
    where e.partner = 'RU' and e.hs6 is not null and {{ in_rebuilt_months('e.period', 0, false) }}
    group by e.period, e.hs6, e.reporter, fx.usd_per_eur
),

partners as (
    select
        period,
        hs_code as hs6,
        reporter as exporter,
        'comtrade' as source,
        cast(null as decimal(38, 2)) as exports_eur,
        coalesce(sum(value_usd) filter (where flow = 'X'), 0) as exports_usd,
        coalesce(sum(value_usd) filter (where flow = 'RX'), 0) as reexports_usd
    from {{ ref('fct_partner_trade') }}
    where partner = 'RU' and hs_level = 6 and flow in ('X', 'RX') and {{ in_rebuilt_months('period', 0, false) }}
    group by period, hs_code, reporter
),

exporters as (
    select * from eu
    union all
    select * from partners
),

-- Who could have reported each (period, hs6): every member state expected in the Comext month, every watched
-- Comtrade reporter (int_mirror__country_months), and whether each did.
reporting as (
    select period, reporter as exporter, is_present as reported, {{ array_literal(["'AG6'"]) }} as products
    from {{ ref('source_coverage') }}
    where source = 'comext'
    union all
    select period, country as exporter, partner_released as reported, partner_products as products
    from {{ ref('int_mirror__country_months') }}
    where country <> 'ALL'
),

reporting_by_code as (
    select
        k.period,
        k.hs6,
        count(*) filter (where r.reported and ({{ array_contains('r.products', "'AG6'") }} or {{ array_contains('r.products', 'k.hs6') }}))
            as exporters_reporting,
        {{ sorted_array_agg('r.exporter', where="not coalesce(r.reported and (" ~ array_contains('r.products', "'AG6'")
                                               ~ " or " ~ array_contains('r.products', 'k.hs6') ~ "), false)") }}
            as missing_exporters
    from (select distinct period, hs6 from exporters) as k
    inner join reporting as r on k.period = r.period
    group by k.period, k.hs6
)

select
    x.period,
    x.hs6,
    pf.product_key,
    pf.chp_tier,
    pf.is_export_restricted,
    exporter,
    source,
    exports_eur,
    exports_usd,
    reexports_usd,
    exports_usd + coalesce(reexports_usd, 0) as to_russia_usd,
    sum(exports_usd + coalesce(reexports_usd, 0)) over (partition by x.period, x.hs6) as russia_imports_usd,
    count(*) over (partition by x.period, x.hs6) as exporters_covered,
    count(case when source = 'comext' then 1 end) over (partition by x.period, x.hs6) as eu_exporters_covered,
    coalesce(rc.exporters_reporting, 0) as exporters_reporting,
    coalesce(rc.missing_exporters, {{ array_literal([]) }}) as missing_exporters
from exporters as x
left join reporting_by_code as rc on x.period = rc.period and x.hs6 = rc.hs6
left join {{ ref('int_reference__product_flags') }} as pf
    on pf.hs_edition = case when x.period < date '2022-01-01' then 'HS2017' else 'HS2022' end and x.hs6 = pf.hs6
