{#- The ingestion feeds' cleaning, defined once for both of their transforms: each feed's stored procedure
    and the local task render these macros (infra/ingestion/catalog.py renders them with Jinja), and dbt's
    silver model calls them; so the procedure's SILVER tables and dbt's DBT_SILVER never clean differently.

    A rule is a macro of one Bronze column (text) that gives the typed value, or NULL where the text is not
    a valid one: the CASE guards make every CAST safe (the same result as a TRY_ function). -#}

{% macro clean_number(c) %}TRY_TO_NUMBER(TRIM({{ c }})){% endmacro %}

{%- macro clean_matching(c, pattern, type) -%}
CASE WHEN REGEXP_LIKE(TRIM({{ c }}), '{{ pattern }}') THEN CAST(TRIM({{ c }}) AS {{ type }}) END
{%- endmacro %}

{%- macro clean_id(c) %}{{ clean_matching(c, '^[0-9]{1,18}$', 'NUMBER(38,0)') }}{% endmacro %}

{%- macro clean_count(c) %}{{ clean_matching(c, '^[0-9]{1,12}$', 'NUMBER(38,0)') }}{% endmacro %}

{#- a non-zero whole number of at most six digits; negative is a return. With clean_price's six digits,
    QUANTITY x UNIT_PRICE stays below 10^12, inside AMOUNT's NUMBER(14,2): a wider product would fail the
    CAST, and with it the whole batch's MERGE, every run, until the row was removed by hand -#}
{%- macro clean_quantity(c) -%}
CASE WHEN REGEXP_LIKE(TRIM({{ c }}), '^-?[0-9]{1,6}$') AND TRY_TO_NUMBER(TRIM({{ c }})) <> 0
         THEN CAST(TRIM({{ c }}) AS NUMBER(38,0)) END
{%- endmacro %}

{#- a non-negative amount below a million with at most two decimals -#}
{%- macro clean_price(c) %}{{ clean_matching(c, '^[0-9]{1,6}([.][0-9]{1,2})?$', 'NUMBER(12,2)') }}{% endmacro %}

{%- macro clean_text(c) %}NULLIF(TRIM({{ c }}), ''){% endmacro %}

{%- macro clean_title(c) %}NULLIF(INITCAP(TRIM({{ c }})), ''){% endmacro %}

{%- macro clean_upper(c) %}NULLIF(UPPER(TRIM({{ c }})), ''){% endmacro %}

{%- macro clean_email(c) -%}
CASE WHEN REGEXP_LIKE(LOWER(TRIM({{ c }})), '^[a-z0-9._%+-]+@[a-z0-9.-]+[.][a-z]{2,}$')
         THEN LOWER(TRIM({{ c }})) END
{%- endmacro %}

{#- digits (and a leading +) only -#}
{%- macro clean_phone(c) %}NULLIF(REGEXP_REPLACE({{ c }}, '[^0-9+]', ''), ''){% endmacro %}

{%- macro clean_date(c) %}TRY_TO_DATE(TRIM({{ c }})){% endmacro %}

{#- an unknown loyalty tier is NULL -#}
{%- macro clean_tier(c) -%}
CASE WHEN INITCAP(TRIM({{ c }})) IN ('Bronze', 'Silver', 'Gold', 'Platinum')
         THEN INITCAP(TRIM({{ c }})) END
{%- endmacro %}

{#- `YYYY-MM-DD hh:mm:ss` (or with a T) of a real day and time; anything else is NULL -#}
{%- macro clean_timestamp(c) -%}
CASE WHEN REGEXP_LIKE(TRIM({{ c }}),
                          '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$')
              AND TRY_TO_DATE(LEFT(TRIM({{ c }}), 10)) IS NOT NULL
         THEN CAST(REPLACE(TRIM({{ c }}), 'T', ' ') AS TIMESTAMP_NTZ) END
{%- endmacro %}

{#- Every feed's transform: Bronze rows of `source`, each column typed by its rule (`rules`: (column, rule
    macro) in the Silver table's order; `after`: a computed column to put after the one it names), rows
    without the `required` columns left in Bronze (not promoted), and one row per `key`: the latest version
    wins, by `version`, then load order, which is the local pipe's load sequence (one number per loaded
    file and row), else (Snowpipe) the file's last-modified time and the load's start, then the row in its
    file. Rows loaded before these columns existed count as the oldest. -#}
{%- macro feed_xfm(source, key, version, required, rules, after={}) -%}
WITH typed AS (
  SELECT
{%- for column, rule in rules %}
    {{ rule(column) }} AS {{ column }},
{%- endfor %}
    _FILE_NAME AS SOURCE_FILE,
    _FILE_ROW_NUMBER AS SOURCE_ROW,
    _LOAD_SEQ AS LOAD_SEQ,
    _FILE_LAST_MODIFIED AS FILE_LAST_MODIFIED,
    _LOADED_AT AS LOADED_AT
  FROM {{ source }}
)
SELECT {% for column, _ in rules %}{{ column }}, {% if column in after %}{{ after[column] }}, {% endif %}{% endfor -%}
       SOURCE_FILE, SOURCE_ROW
FROM typed
WHERE {{ required | join(' IS NOT NULL AND ') }} IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY {{ key }}
  ORDER BY {{ version }} DESC NULLS LAST, LOAD_SEQ DESC NULLS LAST, FILE_LAST_MODIFIED DESC NULLS LAST,
           LOADED_AT DESC NULLS LAST, SOURCE_FILE DESC, SOURCE_ROW DESC
) = 1
{%- endmacro %}

{#- Customers: trimmed, names in title case, e-mails lower case and checked, phones digits only, states
    upper case, unknown loyalty tiers and impossible dates and times NULL; a row without a numeric
    CUSTOMER_ID is not promoted. -#}
{%- macro customer_xfm(source) -%}
{{ feed_xfm(source, 'CUSTOMER_ID', 'UPDATED_AT', ['CUSTOMER_ID'], [
    ('CUSTOMER_ID', clean_number), ('FIRST_NAME', clean_title), ('LAST_NAME', clean_title), ('EMAIL', clean_email),
    ('PHONE', clean_phone), ('CITY', clean_title), ('STATE', clean_upper), ('ZIP_CODE', clean_text),
    ('SIGNUP_DATE', clean_date), ('LOYALTY_TIER', clean_tier), ('UPDATED_AT', clean_timestamp)]) }}
{%- endmacro %}

{#- Sales lines: a line without a whole SALE_ID or PRODUCT_ID, a non-zero whole QUANTITY or a valid
    UNIT_PRICE is not promoted; a non-numeric CUSTOMER_ID is NULL (an anonymous sale); store ids upper
    case; AMOUNT = QUANTITY x UNIT_PRICE. A later version of a SALE_ID corrects it. -#}
{%- macro sales_xfm(source) -%}
{{ feed_xfm(source, 'SALE_ID', 'UPDATED_AT', ['SALE_ID', 'PRODUCT_ID', 'QUANTITY', 'UNIT_PRICE'], [
    ('SALE_ID', clean_id), ('CUSTOMER_ID', clean_id), ('PRODUCT_ID', clean_id), ('STORE_ID', clean_upper),
    ('QUANTITY', clean_quantity), ('UNIT_PRICE', clean_price), ('SOLD_AT', clean_timestamp),
    ('UPDATED_AT', clean_timestamp)], after={'UNIT_PRICE': 'CAST(QUANTITY * UNIT_PRICE AS NUMBER(14,2)) AS AMOUNT'}) }}
{%- endmacro %}

{#- Stock counts: a count without a whole PRODUCT_ID, a STORE_ID or a whole, non-negative
    QUANTITY_ON_HAND is not promoted; store ids upper case; a reorder level that is not a whole,
    non-negative number is NULL. The latest count of a (PRODUCT_ID, STORE_ID) wins. -#}
{%- macro inventory_xfm(source) -%}
{{ feed_xfm(source, 'PRODUCT_ID, STORE_ID', 'LAST_UPDATED', ['PRODUCT_ID', 'STORE_ID', 'QUANTITY_ON_HAND'], [
    ('PRODUCT_ID', clean_id), ('STORE_ID', clean_upper), ('QUANTITY_ON_HAND', clean_count),
    ('REORDER_LEVEL', clean_count), ('LAST_UPDATED', clean_timestamp)]) }}
{%- endmacro %}
