{#- Per platform and report day: spend, impressions and clicks as the source report streams hold them, straight
    from the loaders' tables (not the staging models), for the reconciliation test. Which stream reports a level:
    account: Rokt campaign_report, AdRoll advertisable_report, MediaMath performance
    campaign: Rokt campaign_report, AdRoll campaign_report, MediaMath performance
    ad_group: AdRoll ad_report, MediaMath performance
    ad:       AdRoll ad_report -#}
{% macro report_streams(level) -%}
    {%- set rokt = {'relation': source('tap_rokt', 'campaign_report'), 'day': 'datetime', 'spend': 'gross_cost',
                    'impressions': 'impressions', 'clicks': 'referrals'} -%}
    {%- set mediamath = {'relation': source('tap_mediamath', 'performance'), 'day': 'agg_timestamp',
                         'spend': 'total_spend', 'impressions': 'impressions', 'clicks': 'clicks'} -%}
    {%- set adroll = {'spend': 'cost', 'impressions': 'impressions', 'clicks': 'clicks', 'day': '"date"'} -%}
    {%- set streams = {
        'account': {'rokt': rokt, 'adroll': dict(adroll, relation=source('tap_adroll', 'advertisable_report')),
                    'mediamath': mediamath},
        'campaign': {'rokt': rokt, 'adroll': dict(adroll, relation=source('tap_adroll', 'campaign_report')),
                     'mediamath': mediamath},
        'ad_group': {'adroll': dict(adroll, relation=source('tap_adroll', 'ad_report')), 'mediamath': mediamath},
        'ad': {'adroll': dict(adroll, relation=source('tap_adroll', 'ad_report'))},
    } -%}
    {{ return(streams[level]) }}
{%- endmacro %}

{% macro report_stream_totals(level) -%}
    {%- for platform, stream in report_streams(level).items() %}
    select
        '{{ platform }}' as platform,
        {{ report_day(stream.day) }} as date_day,
        sum({{ as_amount(stream.spend) }}) as spend,
        sum({{ as_amount(stream.impressions) }}) as impressions,
        sum({{ as_amount(stream.clicks) }}) as clicks
    from {{ stream.relation }}
    group by {{ report_day(stream.day) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
