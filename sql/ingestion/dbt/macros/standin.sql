{#- The snapshot's staging table, as dbt's own build_snapshot_staging_table makes it, with one difference on
    the stand-in (target `standin`, fakesnow on DuckDB): there it is a plain table, dropped by the snapshot's
    post-hook, since DuckDB keeps temporary tables in a catalog of their own where DESCRIBE does not find
    them (dbt reads the staging table's columns to write its MERGE). On a stack: a temporary table. -#}
{% macro build_snapshot_staging_table(strategy, sql, target_relation) %}
    {% set temp_relation = make_temp_relation(target_relation) %}

    {% set select = snapshot_staging_table(strategy, sql, target_relation) %}

    {% call statement('build_snapshot_staging_relation') %}
        {{ create_table_as(target.name != 'standin', temp_relation, select) }}
    {% endcall %}

    {% do return(temp_relation) %}
{% endmacro %}


{#- The stand-in's staging table, dropped once the snapshot is merged (on a stack it is temporary). -#}
{% macro drop_standin_staging(relation) %}
  {%- if target.name == 'standin' -%}
    drop table if exists {{ make_temp_relation(relation) }}
  {%- endif -%}
{% endmacro %}


{#- The snapshot's MERGE. On a stack: dbt-snowflake's own (dbt's MERGE in an explicit transaction). On the
    stand-in, DuckDB finds the INSERT's unqualified VALUES ambiguous between target and source, and fakesnow
    cannot MERGE inside an explicit transaction: the same MERGE with the VALUES qualified, on its own. -#}
{% macro snowflake__snapshot_merge_sql(relation, source, insert_cols) %}
    {% set dml = default__snapshot_merge_sql(relation, source, insert_cols) %}
    {% if target.name == 'standin' %}
        {% set plain = 'values (' ~ (insert_cols | join(', ')) ~ ')' %}
        {% set qualified = 'values (DBT_INTERNAL_SOURCE.' ~ (insert_cols | join(', DBT_INTERNAL_SOURCE.')) ~ ')' %}
        {% do return(dml | replace(plain, qualified)) %}
    {% elif snowflake__is_catalog_linked_database(relation=relation) %}
        {% do return(dml) %}
    {% else %}
        {% do return(snowflake_dml_explicit_transaction(dml)) %}
    {% endif %}
{% endmacro %}
