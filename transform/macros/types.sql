{#- One spelling per type in both warehouses, so the models and tests compare like with like. -#}

{#- Money and conversions: exact decimals, whatever the loader stored (DuckDB DOUBLE, PostgreSQL numeric).
    Nine decimal places keep every value the APIs send (cents, micros) and make sums exact and order-free. -#}
{% macro as_amount(expression) -%}
    cast({{ expression }} as numeric(38, 9))
{%- endmacro %}

{#- Counts (impressions, clicks): some loaders store them as numbers, the APIs send whole values. -#}
{% macro as_count(expression) -%}
    cast({{ expression }} as bigint)
{%- endmacro %}

{#- Ids as text, as Fivetran's ad_reporting has them: MediaMath's are integers, the others strings. -#}
{% macro as_id(expression) -%}
    cast({{ expression }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- The report day: every report stream stamps its day as midnight of that day (in the report's own timezone),
    loaded as a timestamp without time zone, so its date is the report day in both warehouses. -#}
{% macro report_day(expression) -%}
    cast({{ expression }} as date)
{%- endmacro %}

{#- Typed nulls, so every provider's branch of a union has the same column types. -#}
{% macro null_amount() -%} cast(null as numeric(38, 9)) {%- endmacro %}
{% macro null_text() -%} cast(null as {{ dbt.type_string() }}) {%- endmacro %}

{#- Spend in USD only where it needs no conversion: the provider reported the money in USD. -#}
{% macro usd_or_null(currency, amount) -%}
    case when {{ currency }} = 'USD' then {{ amount }} end
{%- endmacro %}
