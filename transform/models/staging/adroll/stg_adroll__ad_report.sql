-- AdRoll's daily ad report: one row per ad and report day (its primary key). The API states no
-- timezone for its days; money is in the currency the tap requested (`currency`, default USD). AdRoll's
-- reports carry no conversions.
{% set raw_columns = {
    'date': 'timestamp', 'eid': 'text', 'ad': 'text', 'currency': 'text', 'impressions': 'number',
    'clicks': 'number', 'cost': 'number'} %}
{% call(relation, columns) union_landed('adroll', 'ad_report', raw_columns) %}
select
    {{ report_day('"date"') }} as date_day,
    {{ as_id('eid') }} as ad_id,
    cast(ad as {{ dbt.type_string() }}) as reported_ad_name,
    cast(currency as {{ dbt.type_string() }}) as currency,
    {{ as_count('impressions') }} as impressions,
    {{ as_count('clicks') }} as clicks,
    {{ as_amount('cost') }} as spend
from {{ relation }} as raw
{% endcall %}
