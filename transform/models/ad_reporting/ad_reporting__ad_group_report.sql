-- Daily totals per ad group: AdRoll ad groups (its ad report, summed over each ad group's ads) and MediaMath
-- strategies (performance). Rokt reports nothing below the campaign, so it has no rows here.

with adroll as (
    select
        report.date_day,
        'adroll' as platform,
        report.source_relation,
        ads.account_id,
        max(advertisables.account_name) as account_name,
        ad_groups.campaign_id,
        max(campaigns.campaign_name) as campaign_name,
        ads.ad_group_id,
        max(ad_groups.ad_group_name) as ad_group_name,
        report.currency,
        {{ null_text() }} as report_timezone,
        sum(report.clicks) as clicks,
        sum(report.impressions) as impressions,
        sum(report.spend) as spend,
        {{ usd_or_null('report.currency', 'sum(report.spend)') }} as spend_usd,
        {{ null_amount() }} as conversions,
        {{ null_amount() }} as conversions_value
    from {{ ref('stg_adroll__ad_report') }} as report
    left join {{ ref('stg_adroll__ads') }} as ads on ads.ad_id = report.ad_id
        and ads.source_relation = report.source_relation
    left join {{ ref('stg_adroll__ad_groups') }} as ad_groups on ad_groups.ad_group_id = ads.ad_group_id
        and ad_groups.source_relation = report.source_relation
    left join {{ ref('stg_adroll__campaigns') }} as campaigns on campaigns.campaign_id = ad_groups.campaign_id
        and campaigns.source_relation = report.source_relation
    left join {{ ref('stg_adroll__advertisables') }} as advertisables on advertisables.account_id = ads.account_id
        and advertisables.source_relation = report.source_relation
    group by report.source_relation, report.date_day, ads.account_id, ad_groups.campaign_id, ads.ad_group_id, report.currency
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
        ad_group_id,
        max(ad_group_name) as ad_group_name,
        currency,
        'UTC' as report_timezone,
        sum(clicks) as clicks,
        sum(impressions) as impressions,
        sum(spend) as spend,
        sum(spend_usd) as spend_usd,
        sum(conversions) as conversions,
        sum(conversions_value) as conversions_value
    from {{ ref('stg_mediamath__performance') }}
    group by source_relation, date_day, account_id, campaign_id, ad_group_id, currency
),

unioned as (
    select * from adroll
    union all
    select * from mediamath
)

select {{ unified_columns('ad_group') }}
from unioned
