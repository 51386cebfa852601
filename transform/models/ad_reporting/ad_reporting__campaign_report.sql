-- Daily totals per campaign: Rokt (campaign report; Rokt's API names no campaigns), AdRoll (campaign report) and
-- MediaMath (performance, summed over strategies).

with rokt as (
    select
        report.date_day,
        'rokt' as platform,
        report.source_relation,
        report.account_id,
        accounts.account_name,
        report.campaign_id,
        {{ null_text() }} as campaign_name,
        report.currency,
        report.report_timezone,
        report.clicks,
        report.impressions,
        report.spend,
        {{ usd_or_null('report.currency', 'report.spend') }} as spend_usd,
        report.conversions,
        {{ null_amount() }} as conversions_value
    from {{ ref('stg_rokt__campaign_report') }} as report
    left join {{ ref('stg_rokt__accounts') }} as accounts on accounts.account_id = report.account_id
        and accounts.source_relation = report.source_relation
),

adroll as (
    select
        report.date_day,
        'adroll' as platform,
        report.source_relation,
        campaigns.account_id,
        advertisables.account_name,
        report.campaign_id,
        coalesce(campaigns.campaign_name, report.reported_campaign_name) as campaign_name,
        report.currency,
        {{ null_text() }} as report_timezone,
        report.clicks,
        report.impressions,
        report.spend,
        {{ usd_or_null('report.currency', 'report.spend') }} as spend_usd,
        {{ null_amount() }} as conversions,
        {{ null_amount() }} as conversions_value
    from {{ ref('stg_adroll__campaign_report') }} as report
    left join {{ ref('stg_adroll__campaigns') }} as campaigns on campaigns.campaign_id = report.campaign_id
        and campaigns.source_relation = report.source_relation
    left join {{ ref('stg_adroll__advertisables') }} as advertisables on advertisables.account_id = campaigns.account_id
        and advertisables.source_relation = report.source_relation
),

mediamath as (
    select
        date_day,
        'mediamath' as platform,
        source_relation,
        account_id,
        max(account_name) as account_name,
        campaign_id,
        max(campaign_name) as campaign_name,
        currency,
        'UTC' as report_timezone,
        sum(clicks) as clicks,
        sum(impressions) as impressions,
        sum(spend) as spend,
        sum(spend_usd) as spend_usd,
        sum(conversions) as conversions,
        sum(conversions_value) as conversions_value
    from {{ ref('stg_mediamath__performance') }}
    group by source_relation, date_day, account_id, campaign_id, currency
),

unioned as (
    select * from rokt
    union all
    select * from adroll
    union all
    select * from mediamath
)

select {{ unified_columns('campaign') }}
from unioned
