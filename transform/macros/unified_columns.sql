{#- The columns of a unified table, in order and with one type each (the types its contract declares): Fivetran
    dbt_ad_reporting's source_relation, names for the level (account, campaign, ad_group, ad) and metrics, plus
    currency, report_timezone and spend_usd. -#}
{% macro unified_dimensions(level) -%}
    {%- set levels = ['account', 'campaign', 'ad_group', 'ad'] -%}
    {%- set dimensions = [] -%}
    {%- for name in levels[:levels.index(level) + 1] -%}
        {%- do dimensions.extend([name ~ '_id', name ~ '_name']) -%}
    {%- endfor -%}
    {{ return(dimensions) }}
{%- endmacro %}

{% macro unified_columns(level) -%}
    cast(source_relation as {{ dbt.type_string() }}) as source_relation,
    {{ report_day('date_day') }} as date_day,
    cast(platform as {{ dbt.type_string() }}) as platform,
    {%- for column in unified_dimensions(level) %}
    {%- if column.endswith('_id') %}
    {{ as_id(column) }} as {{ column }},
    {%- else %}
    cast({{ column }} as {{ dbt.type_string() }}) as {{ column }},
    {%- endif %}
    {%- endfor %}
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(report_timezone as {{ dbt.type_string() }}) as report_timezone,
    {{ as_count('clicks') }} as clicks,
    {{ as_count('impressions') }} as impressions,
    {{ as_amount('spend') }} as spend,
    {{ as_amount('spend_usd') }} as spend_usd,
    {{ as_amount('conversions') }} as conversions,
    {{ as_amount('conversions_value') }} as conversions_value
{%- endmacro %}
