-- AdRoll's daily advertisable (account) report: one row per advertisable and report day (its primary key). The
-- API states no timezone for its days; money is in the currency the tap requested (`currency`, default USD). AdRoll's
-- reports carry no conversions.
{% set raw_columns = {
    'date': 'timestamp', 'eid': 'text', 'advertisable': 'text', 'currency': 'text', 'impressions': 'number',
    'clicks': 'number', 'cost': 'number'} %}
{% call(relation, columns) union_landed('adroll', 'advertisable_report', raw_columns) %}
select
    {{ report_day('"date"') }} as date_day,
    {{ as_id('eid') }} as account_id,
    cast(advertisable as {{ dbt.type_string() }}) as reported_account_name,
    cast(currency as {{ dbt.type_string() }}) as currency,
    {{ as_count('impressions') }} as impressions,
    {{ as_count('clicks') }} as clicks,
    {{ as_amount('cost') }} as spend
from {{ relation }} as raw
{% endcall %}
