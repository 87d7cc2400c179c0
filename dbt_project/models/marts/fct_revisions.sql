-- What the newest release of each month changed for the watched codes against the release before it, for every
-- source that revises: the revision records whose current vintage is the one the warehouse holds for the month.
with comext_current as (
    select distinct period, source_sha256
    from {{ ref('source_coverage') }}
    where source = 'comext' and is_present
),

comtrade_current as (
    select period, reporter, source_sha256
    from {{ ref('source_coverage') }}
    where source = 'comtrade' and is_present
),

codes as (
    select comtrade_m49, iso2 from {{ ref('country_codes') }} where comtrade_m49 is not null
    union all
    select comtrade_m49, iso2 from {{ ref('comtrade_code_aliases') }}
),

revisions as (
    select
        'comext' as source,
        r.period,
        r.flow_code,
        r.reporter,
        r.partner,
        r.cn8 as product_code,
        cast(null as {{ dbt.type_string() }}) as breakdown,
        'EUR' as currency,
        r.previous_value_eur as previous_value,
        r.current_value_eur as current_value,
        r.previous_sha256 as previous_vintage_sha256,
        r.current_sha256 as current_vintage_sha256,
        r.previous_retrieved_at,
        r.current_retrieved_at
    from {{ ref('stg_comext__revisions') }} as r
    inner join comext_current as c on r.period = c.period and r.current_sha256 = c.source_sha256
    union all
    select
        'comtrade' as source,
        r.period,
        r.flow_code,
        r.reporter,
        coalesce(p.iso2, 'M49:' || r.partner_m49) as partner,
        r.hs_code as product_code,
        r.breakdown,
        'USD' as currency,
        r.previous_value_usd as previous_value,
        r.current_value_usd as current_value,
        r.previous_manifest_sha256 as previous_vintage_sha256,
        r.current_manifest_sha256 as current_vintage_sha256,
        r.previous_retrieved_at,
        r.current_retrieved_at
    from {{ ref('stg_comtrade__revisions') }} as r
    inner join comtrade_current as c
        on r.period = c.period and r.reporter = c.reporter and r.current_manifest_sha256 = c.source_sha256
    left join codes as p on r.partner_m49 = p.comtrade_m49
)

select
    r.source,
    r.period,
    r.flow_code,
    r.reporter,
    r.partner,
    r.product_code,
    r.breakdown,
    case when length(r.product_code) >= 6 and not contains(r.product_code, 'X') then left(r.product_code, 6) end
        as hs6,
    w.chp_tier,
    coalesce(rc.code is not null or pf.is_export_restricted, false) as is_export_restricted,
    g.product_group,
    case
        when r.previous_value is null then 'added'
        when r.current_value is null then 'withdrawn'
        else 'revised'
    end as revision_kind,
    r.currency,
    r.previous_value,
    r.current_value,
    coalesce(r.current_value, 0) - coalesce(r.previous_value, 0) as change,
    case when r.previous_value > 0
        then round(100 * (coalesce(r.current_value, 0) - r.previous_value) / r.previous_value, 2)
    end as change_pct,
    r.previous_vintage_sha256,
    r.current_vintage_sha256,
    r.previous_retrieved_at,
    r.current_retrieved_at
from revisions as r
left join {{ ref('int_reference__watched_hs6') }} as w
    on left(r.product_code, 6) = w.hs6
    and w.hs_edition = case when r.period < date '2022-01-01' then 'HS2017' else 'HS2022' end
left join {{ ref('sanctions_debate_goods') }} as g on left(r.product_code, 4) = g.hs4
-- a Comext CN8 code on the list, or (Comtrade, HS6) a code with a restricted CN8 code under it
left join {{ ref('eu_export_restricted_cn8') }} as rc on r.product_code = rc.code
left join {{ ref('int_reference__product_flags') }} as pf
    on length(r.product_code) = 6 and r.product_code = pf.hs6
    and pf.hs_edition = case when r.period < date '2022-01-01' then 'HS2017' else 'HS2022' end
