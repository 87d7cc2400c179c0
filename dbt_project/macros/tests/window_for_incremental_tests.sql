{#- Tests on an incremental model (one that replaces whole months: fct_eu_exports, fct_partner_trade,
    source_coverage; or months and the months after them, or years: the mirror and measure marts of macros/window.sql's
    rebuilt_by) check the months (years) this run rebuilt. The months outside the window were tested when they were
    built and have not changed since, so re-testing them would make every run cost the whole history. An explicit
    `where` on a test still wins; models rebuilt whole are always tested whole. -#}
{% macro get_where_subquery(relation) -%}
    {%- set found = namespace(where=config.get('where', '')) -%}
    {%- if not found.where and execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.config.materialized == 'incremental'
                and node.alias == relation.identifier and node.config.schema == relation.schema -%}
                {%- set meta = node.config.meta or {} -%}
                {%- if meta.get('grain') == 'year' -%}
                    {%- set found.where = in_rebuilt_years('year', meta.get('uses_baseline', true)) -%}
                {%- elif meta.get('grain') == 'period' -%}
                    {%- set found.where = in_rebuilt_months('period', meta.get('reach_months', 0),
                                                            meta.get('uses_baseline', true)) -%}
                {%- else -%}
                    {%- set found.where = "period between cast('" ~ var('min_period') ~ "' as date) and cast('"
                        ~ var('max_period') ~ "' as date)" -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if found.where -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ found.where ~ ") dbt_subquery") -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
