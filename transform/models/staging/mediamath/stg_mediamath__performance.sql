-- MediaMath's daily performance report: one row per organization, UTC day, campaign and strategy (its primary
-- key). Advertisers are the accounts, strategies the ad groups; MediaMath converts money to USD itself (*_usd).
select
    {{ report_day('agg_timestamp') }} as date_day,
    {{ as_id('advertiser_id') }} as account_id,
    advertiser_name as account_name,
    {{ as_id('campaign_id') }} as campaign_id,
    campaign_name,
    {{ as_id('strategy_id') }} as ad_group_id,
    strategy_name as ad_group_name,
    campaign_currency_code as currency,
    {{ as_count('impressions') }} as impressions,
    {{ as_count('clicks') }} as clicks,
    {{ as_amount('total_spend') }} as spend,
    {{ as_amount('total_spend_usd') }} as spend_usd,
    {{ as_amount('total_conversions') }} as conversions,
    {{ as_amount('total_revenue') }} as conversions_value
from {{ source('tap_mediamath', 'performance') }}
