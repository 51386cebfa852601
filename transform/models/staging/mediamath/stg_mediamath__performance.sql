-- MediaMath's daily performance report: one row per organization, UTC day, campaign and strategy (its primary
-- key). Advertisers are the accounts, strategies the ad groups; MediaMath converts money to USD itself (*_usd).
{% set raw_columns = {
    'agg_timestamp': 'timestamp', 'advertiser_id': 'number', 'advertiser_name': 'text', 'campaign_id': 'number',
    'campaign_name': 'text', 'strategy_id': 'number', 'strategy_name': 'text', 'campaign_currency_code': 'text',
    'impressions': 'number', 'clicks': 'number', 'total_spend': 'number', 'total_spend_usd': 'number',
    'total_conversions': 'number', 'total_revenue': 'number'} %}
{% call(relation, columns) union_landed('mediamath', 'performance', raw_columns) %}
select
    {{ report_day('agg_timestamp') }} as date_day,
    {{ as_id('advertiser_id') }} as account_id,
    cast(advertiser_name as {{ dbt.type_string() }}) as account_name,
    {{ as_id('campaign_id') }} as campaign_id,
    cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
    {{ as_id('strategy_id') }} as ad_group_id,
    cast(strategy_name as {{ dbt.type_string() }}) as ad_group_name,
    cast(campaign_currency_code as {{ dbt.type_string() }}) as currency,
    {{ as_count('impressions') }} as impressions,
    {{ as_count('clicks') }} as clicks,
    {{ as_amount('total_spend') }} as spend,
    {{ as_amount('total_spend_usd') }} as spend_usd,
    {{ as_amount('total_conversions') }} as conversions,
    {{ as_amount('total_revenue') }} as conversions_value
from {{ relation }} as raw
{% endcall %}
