-- One total per (period, reporter, flow, partner, HS code) as the reporter published it, never counted twice.
-- Since 2017 rows can be split by customs procedure, mode of transport, mode of supply and second partner.
-- A total row (C00, mot 0, mos 0, partner2 0) is taken when the reporter publishes one; otherwise the rows split
-- along exactly one of those dimensions are summed (mode of transport first: Armenia reports only those).
-- HS levels are never added: each code keeps its own rows. RM/RX stay distinct flows.
with records as (
    select
        *,
        (customs_code <> 'C00')::int + (mot_code <> 0)::int + (mos_code <> '0')::int + (partner2_m49 <> 0)::int
            as split_dimensions,
        case
            when mot_code <> 0 then 'mode_of_transport'
            when customs_code <> 'C00' then 'customs_procedure'
            when mos_code <> '0' then 'mode_of_supply'
            when partner2_m49 <> 0 then 'second_partner'
        end as split_by
    from {{ ref('stg_comtrade__records') }}
    where {{ in_run_window('period') }}
),

keys as (
    select
        period,
        reporter_m49,
        flow_code,
        partner_m49,
        hs_code,
        count(*) as source_rows,
        count(*) filter (where split_dimensions = 0) as total_rows,
        case
            when count(*) filter (where split_dimensions = 0) > 0 then 'total_row'
            when bool_or(split_dimensions = 1 and split_by = 'mode_of_transport') then 'sum_mode_of_transport'
            when bool_or(split_dimensions = 1 and split_by = 'customs_procedure') then 'sum_customs_procedure'
            when bool_or(split_dimensions = 1 and split_by = 'mode_of_supply') then 'sum_mode_of_supply'
            when bool_or(split_dimensions = 1 and split_by = 'second_partner') then 'sum_second_partner'
            else 'unresolved'
        end as aggregation
    from records
    group by period, reporter_m49, flow_code, partner_m49, hs_code
)

select
    k.period,
    k.reporter_m49,
    k.flow_code,
    k.partner_m49,
    k.hs_code,
    length(k.hs_code) as hs_level,
    min(r.classification) as classification,
    count(distinct r.classification) as classifications,
    k.aggregation,
    k.source_rows,
    k.total_rows,
    count(r.hs_code) as summed_rows,
    sum(r.primary_value_usd) as value_usd,
    sum(r.cif_usd) as cif_usd,
    sum(r.fob_usd) as fob_usd,
    sum(r.net_weight_kg) as net_weight_kg,
    sum(r.qty) as qty,
    min(r.qty_unit) as qty_unit,
    min(r.source_vintage) as source_vintage,
    min(r.source_sha256) as source_sha256
from keys as k
left join records as r
    on k.period = r.period
    and k.reporter_m49 = r.reporter_m49
    and k.flow_code = r.flow_code
    and k.partner_m49 = r.partner_m49
    and k.hs_code = r.hs_code
    and (
        (k.aggregation = 'total_row' and r.split_dimensions = 0)
        or (k.aggregation = 'sum_' || r.split_by and r.split_dimensions = 1)
    )
group by all
