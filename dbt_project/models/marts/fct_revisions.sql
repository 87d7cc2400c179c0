-- What the newest release of each month changed for the watched codes against the release before it: the
-- revision records whose current vintage is the one the warehouse holds for the month.
with current_vintages as (
    select distinct period, source_sha256
    from {{ ref('source_coverage') }}
    where source = 'comext' and is_present
)

select
    'comext' as source,
    r.period,
    r.flow_code,
    r.reporter,
    r.partner,
    r.cn8,
    case when not contains(r.cn8, 'X') then left(r.cn8, 6) end as hs6,
    w.chp_tier,
    g.product_group,
    case
        when r.previous_value_eur is null then 'added'
        when r.current_value_eur is null then 'withdrawn'
        else 'revised'
    end as revision_kind,
    r.previous_value_eur,
    r.current_value_eur,
    coalesce(r.current_value_eur, 0) - coalesce(r.previous_value_eur, 0) as change_eur,
    case when r.previous_value_eur > 0
        then round(100 * (coalesce(r.current_value_eur, 0) - r.previous_value_eur) / r.previous_value_eur, 2)
    end as change_pct,
    r.previous_quantity_kg,
    r.current_quantity_kg,
    r.previous_sha256 as previous_vintage_sha256,
    r.current_sha256 as current_vintage_sha256,
    r.previous_retrieved_at,
    r.current_retrieved_at
from {{ ref('stg_comext__revisions') }} as r
inner join current_vintages as c on r.period = c.period and r.current_sha256 = c.source_sha256
left join {{ ref('int_reference__watched_hs6') }} as w
    on left(r.cn8, 6) = w.hs6
    and w.hs_edition = case when r.period < date '2022-01-01' then 'HS2017' else 'HS2022' end
left join {{ ref('sanctions_debate_goods') }} as g on left(r.cn8, 4) = g.hs4
