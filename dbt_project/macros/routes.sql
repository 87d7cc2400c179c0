{#- Does a reporting side (a row of fct_trade_routes' `reporting`) cover trade in every code of `codes` (a list)
    with `counterpart`? It must have released the month, fetched the codes (or every code, 'AG6') and asked for the
    counterpart. A month ingested before partners were recorded asked for the EU members, Russia and Belarus only,
    so of the routes' countries only RU and BY. -#}
{% macro route_side_covers(side, codes, counterpart) -%}
    coalesce(
        {{ side }}.released
        and ({{ array_contains(side ~ '.products', "'AG6'") }} or {{ array_contains_all(side ~ '.products', codes) }})
        and ({{ side }}.all_counterparts or {{ array_contains('coalesce(' ~ side ~ '.counterparts, ' ~ array_literal(["'RU'", "'BY'"]) ~ ')', counterpart) }}),
        false
    )
{%- endmacro %}
