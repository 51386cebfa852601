-- AdRoll's daily campaign report: one row per campaign and report day (its primary key). The API states no
-- timezone for its days; money is in the currency the tap requested (`currency`, default USD). AdRoll's
-- reports carry no conversions.
{% set raw_columns = {
    'date': 'timestamp', 'eid': 'text', 'campaign': 'text', 'currency': 'text', 'impressions': 'number',
    'clicks': 'number', 'cost': 'number'} %}
{% call(relation, columns) union_landed('adroll', 'campaign_report', raw_columns) %}
select
    {{ report_day('"date"') }} as date_day,
    {{ as_id('eid') }} as campaign_id,
    cast(campaign as {{ dbt.type_string() }}) as reported_campaign_name,
    cast(currency as {{ dbt.type_string() }}) as currency,
    {{ as_count('impressions') }} as impressions,
    {{ as_count('clicks') }} as clicks,
    {{ as_amount('cost') }} as spend
from {{ relation }} as raw
{% endcall %}
