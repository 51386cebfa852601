-- Daily totals per account, per provider: Rokt accounts (from its campaign report), AdRoll advertisables (its
-- advertisable report), MediaMath advertisers (its performance report). One row per account, day and currency:
-- a MediaMath advertiser's campaigns may each have their own currency, and money is never summed across them.

with rokt as (
    select
        report.date_day,
        'rokt' as platform,
        report.source_relation,
        report.account_id,
        max(accounts.account_name) as account_name,
        report.currency,
        report.report_timezone,
        sum(report.clicks) as clicks,
        sum(report.impressions) as impressions,
        sum(report.spend) as spend,
        {{ usd_or_null('report.currency', 'sum(report.spend)') }} as spend_usd,
        sum(report.conversions) as conversions,
        {{ null_amount() }} as conversions_value
    from {{ ref('stg_rokt__campaign_report') }} as report
    left join {{ ref('stg_rokt__accounts') }} as accounts on accounts.account_id = report.account_id
        and accounts.source_relation = report.source_relation
    group by report.source_relation, report.date_day, report.account_id, report.currency, report.report_timezone
),

adroll as (
    select
        report.date_day,
        'adroll' as platform,
        report.source_relation,
        report.account_id,
        coalesce(advertisables.account_name, report.reported_account_name) as account_name,
        report.currency,
        {{ null_text() }} as report_timezone,
        report.clicks,
        report.impressions,
        report.spend,
        {{ usd_or_null('report.currency', 'report.spend') }} as spend_usd,
        {{ null_amount() }} as conversions,
        {{ null_amount() }} as conversions_value
    from {{ ref('stg_adroll__advertisable_report') }} as report
    left join {{ ref('stg_adroll__advertisables') }} as advertisables on advertisables.account_id = report.account_id
        and advertisables.source_relation = report.source_relation
),

mediamath as (
    select
        date_day,
        'mediamath' as platform,
        source_relation,
        account_id,
        max(account_name) as account_name,
        currency,
        'UTC' as report_timezone,
        sum(clicks) as clicks,
        sum(impressions) as impressions,
        sum(spend) as spend,
        sum(spend_usd) as spend_usd,
        sum(conversions) as conversions,
        sum(conversions_value) as conversions_value
    from {{ ref('stg_mediamath__performance') }}
    group by source_relation, date_day, account_id, currency
),

unioned as (
    select * from rokt
    union all
    select * from adroll
    union all
    select * from mediamath
)

select {{ unified_columns('account') }}
from unioned
