{{ config(materialized='table') }}
-- One product key across HS editions: the smallest group of HS6 codes that is stable across the 2022 break.
-- The links of int_reference__hs_concordance form a graph of HS2017 and HS2022 codes; each connected group is one
-- product. Groups are found by propagating the smallest code of each group along the links; the HS2017/HS2022
-- graph has short paths (3 steps suffice for the UNSD table), 8 steps are unrolled and the test
-- concordance_groups_are_closed proves the result is stable (every link's two codes are in one group).
--   product_key      = the code itself when it continues into HS2022 (854231, which also gave the HS2022 e-waste
--                      codes 8549xx in the UNSD table), else the group's HS2022 codes joined by '+' (854151+854159)
--   product_key_kind = unchanged (same code, 1:1), renumbered (1:1, new code), split (1 HS2017 -> n HS2022),
--                      merged (n HS2017 -> 1 HS2022), regrouped (n:m)
{% set steps = 8 %}
with links as (
    select 'HS2017:' || hs2017_hs6 as a, 'HS2022:' || hs2022_hs6 as b from {{ ref('int_reference__hs_concordance') }}
),

edges as (
    select a as node, b as neighbour from links
    union all
    select b as node, a as neighbour from links
    union all
    select a as node, a as neighbour from links
    union all
    select b as node, b as neighbour from links
),

label_0 as (
    select distinct node, node as grp from edges
),
{% for i in range(1, steps + 1) %}
label_{{ i }} as (
    select e.node, min(l.grp) as grp
    from edges as e
    inner join label_{{ i - 1 }} as l on e.neighbour = l.node
    group by e.node
),
{% endfor %}

nodes as (
    select
        substr(node, 1, 6) as hs_edition,
        substr(node, 8, 6) as hs6,
        grp
    from label_{{ steps }}
),

groups as (
    select
        grp,
        {{ sorted_array_agg('hs6', where="hs_edition = 'HS2017'") }} as hs2017_codes,
        {{ sorted_array_agg('hs6', where="hs_edition = 'HS2022'") }} as hs2022_codes
    from nodes
    group by grp
)

select
    n.hs_edition,
    n.hs6,
    case
        when {{ array_length('g.hs2017_codes') }} = 1 and {{ array_contains('g.hs2022_codes', array_element('g.hs2017_codes', 1)) }} then {{ array_element('g.hs2017_codes', 1) }}
        else {{ array_join('g.hs2022_codes', "'+'") }}
    end as product_key,
    case
        when {{ array_length('g.hs2017_codes') }} = 1 and {{ array_length('g.hs2022_codes') }} = 1 and {{ array_element('g.hs2017_codes', 1) }} = {{ array_element('g.hs2022_codes', 1) }}
            then 'unchanged'
        when {{ array_length('g.hs2017_codes') }} = 1 and {{ array_length('g.hs2022_codes') }} = 1 then 'renumbered'
        when {{ array_length('g.hs2017_codes') }} = 1 then 'split'
        when {{ array_length('g.hs2022_codes') }} = 1 then 'merged'
        else 'regrouped'
    end as product_key_kind,
    g.hs2017_codes,
    g.hs2022_codes
from nodes as n
inner join groups as g on n.grp = g.grp
