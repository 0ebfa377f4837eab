{#- A model's schema is exactly the one it names (DBT_SILVER, DBT_GOLD): the schemas are declared by the
    stack (infra/ingestion/dbt.py) and the DBT role may create objects in them only, never a schema of its
    own, so dbt's default `<target schema>_<custom>` would name schemas that do not exist. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is none -%}
    {{ exceptions.raise_compiler_error(node.name ~ " names no schema: give it +schema (DBT_SILVER or DBT_GOLD)") }}
  {%- endif -%}
  {{ custom_schema_name | trim | upper }}
{%- endmacro %}
