-- Daily totals per ad: only AdRoll reports ads (its ad report). Rokt's and MediaMath's default report streams
-- stop at the campaign and the strategy, so they have no rows here.

with adroll as (
    select
        report.date_day,
        'adroll' as platform,
        report.source_relation,
        ads.account_id,
        advertisables.account_name,
        ad_groups.campaign_id,
        campaigns.campaign_name,
        ads.ad_group_id,
        ad_groups.ad_group_name,
        report.ad_id,
        coalesce(ads.ad_name, report.reported_ad_name) as ad_name,
        report.currency,
        {{ null_text() }} as report_timezone,
        report.clicks,
        report.impressions,
        report.spend,
        {{ usd_or_null('report.currency', 'report.spend') }} as spend_usd,
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
)

select {{ unified_columns('ad') }}
from adroll
