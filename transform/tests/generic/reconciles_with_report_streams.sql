{#- Every (platform, source_relation, report day) of a unified table has exactly the spend, impressions and clicks
    of the source report stream that feeds its level, as loaded in that schema, and no platform, source or day is
    missing or extra. Returns the rows that differ. -#}
{% test reconciles_with_report_streams(model, level) %}

with unified as (
    select
        platform,
        source_relation,
        date_day,
        sum({{ as_amount('spend') }}) as spend,
        sum({{ as_amount('impressions') }}) as impressions,
        sum({{ as_amount('clicks') }}) as clicks
    from {{ model }}
    group by platform, source_relation, date_day
),

reported as (
    {{ report_stream_totals(level) }}
)

select
    coalesce(unified.platform, reported.platform) as platform,
    coalesce(unified.source_relation, reported.source_relation) as source_relation,
    coalesce(unified.date_day, reported.date_day) as date_day,
    unified.spend as unified_spend,
    reported.spend as reported_spend,
    unified.impressions as unified_impressions,
    reported.impressions as reported_impressions,
    unified.clicks as unified_clicks,
    reported.clicks as reported_clicks
from unified
full outer join reported
    on reported.platform = unified.platform
    and reported.source_relation = unified.source_relation
    and reported.date_day = unified.date_day
where unified.platform is null
    or reported.platform is null
    or unified.spend is distinct from reported.spend
    or unified.impressions is distinct from reported.impressions
    or unified.clicks is distinct from reported.clicks

{% endtest %}
