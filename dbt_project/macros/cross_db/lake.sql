{#- Where each engine reads the parquet lake and how it replaces months. -#}

{#- Sources: DuckDB reads each source's meta.external_location (read_parquet over <home>/parquet/<table>/*/*.parquet)
    in place. Spark has no such config, so before a run (on-run-start) this creates, for every source, a view of the
    same name over the same glob of parquet files (the lake's YYYYMM/ folders need no hive-style names: the glob
    lists the files). Schemas that grew a column (comtrade_availability's partners) are merged by the session's
    spark.sql.parquet.mergeSchema, DuckDB's union_by_name. -#}
{% macro create_lake_views() -%}
    {{ return(adapter.dispatch('create_lake_views', 'mirror_trade')()) }}
{%- endmacro %}
{% macro default__create_lake_views() -%}{%- endmacro %}
{% macro spark__create_lake_views() -%}
    {%- if execute -%}
        {%- for source in graph.sources.values() if source.meta.external_location -%}
            {#- the glob is the quoted first argument of read_parquet('<glob>', ...) -#}
            {%- set glob = source.meta.external_location.split("'")[1] -%}
            {%- do run_query('create schema if not exists ' ~ source.schema) -%}
            {%- do run_query('create or replace view ' ~ source.schema ~ '.' ~ source.identifier
                ~ ' as select * from parquet.`' ~ glob ~ '`') -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- The config of a model whose months are replaced whole (each run rebuilds the months of its window):
    DuckDB deletes the window's `unique_key` rows and inserts them again; Spark (parquet tables, no Delta)
    overwrites the table's `period` partitions that the run wrote. -#}
{% macro months_replaced_whole(unique_key='period') -%}
    {{ return(adapter.dispatch('months_replaced_whole', 'mirror_trade')(unique_key)) }}
{%- endmacro %}
{% macro default__months_replaced_whole(unique_key) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': unique_key,
               'on_schema_change': 'fail'}) }}
{%- endmacro %}
{% macro spark__months_replaced_whole(unique_key) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'insert_overwrite', 'partition_by': ['period'],
               'on_schema_change': 'fail'}) }}
{%- endmacro %}

{#- `relation` with `column` (of type `type`) even where no parquet file of the lake has it yet: a column added to
    the lake's schema later reads as NULL in older partitions. DuckDB unions an empty row set by name; Spark asks
    the relation's columns. -#}
{% macro with_column(relation, column, type) -%}
    {{ return(adapter.dispatch('with_column', 'mirror_trade')(relation, column, type)) }}
{%- endmacro %}
{% macro default__with_column(relation, column, type) -%}
(
    select * from {{ relation }}
    union all by name
    select cast(null as {{ type }}) as {{ column }} where false
)
{%- endmacro %}
{% macro spark__with_column(relation, column, type) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for c in adapter.get_columns_in_relation(relation) -%}{%- do names.append(c.name | lower) -%}{%- endfor -%}
    {%- endif -%}
    {%- if not execute or column | lower in names -%}
        {{ relation }}
    {%- else -%}
        (select *, cast(null as {{ type }}) as {{ column }} from {{ relation }})
    {%- endif -%}
{%- endmacro %}
