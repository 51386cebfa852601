-- Rokt's daily campaign report: one row per account, report day and campaign (its primary key).
-- Clicks are referrals ("positive engagements with the ad"), conversions are acquisitions: click-through plus
-- view-through, where the account's help lists view-through (an account that does not list it has none).
-- Rokt reports no conversion value.
{% set report = source('tap_rokt', 'campaign_report') %}
select
    {{ report_day('datetime') }} as date_day,
    {{ as_id('account_id') }} as account_id,
    {{ as_id('campaign_id') }} as campaign_id,
    currency_code as currency,
    timezone as report_timezone,
    {{ as_count('impressions') }} as impressions,
    {{ as_count('referrals') }} as clicks,
    {{ as_amount('gross_cost') }} as spend,
    {{ as_amount(column_or_null(report, 'clickthru_acquisitions')) }}
        + coalesce({{ as_amount(column_or_null(report, 'viewthru_acquisitions')) }}, 0) as conversions
from {{ report }}
