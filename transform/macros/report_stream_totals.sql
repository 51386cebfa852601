{#- Per platform, source (loaded schema) and report day: spend, impressions and clicks as the source report streams
    hold them, straight from the loaders' tables (not the staging models), for the reconciliation test. Only the
    tables that have landed, of the providers switched on (macros/provider_sources.sql). Which stream reports a level:
    account: Rokt campaign_report, AdRoll advertisable_report, MediaMath performance
    campaign: Rokt campaign_report, AdRoll campaign_report, MediaMath performance
    ad_group: AdRoll ad_report, MediaMath performance
    ad:       AdRoll ad_report -#}
{% macro report_streams(level) -%}
    {%- set rokt = {'table': 'campaign_report', 'day': 'datetime', 'spend': 'gross_cost', 'impressions': 'impressions',
                    'clicks': 'referrals'} -%}
    {%- set mediamath = {'table': 'performance', 'day': 'agg_timestamp', 'spend': 'total_spend',
                         'impressions': 'impressions', 'clicks': 'clicks'} -%}
    {%- set adroll = {'spend': 'cost', 'impressions': 'impressions', 'clicks': 'clicks', 'day': '"date"'} -%}
    {%- set streams = {
        'account': {'rokt': rokt, 'adroll': dict(adroll, table='advertisable_report'), 'mediamath': mediamath},
        'campaign': {'rokt': rokt, 'adroll': dict(adroll, table='campaign_report'), 'mediamath': mediamath},
        'ad_group': {'adroll': dict(adroll, table='ad_report'), 'mediamath': mediamath},
        'ad': {'adroll': dict(adroll, table='ad_report')},
    } -%}
    {{ return(streams[level]) }}
{%- endmacro %}

{% macro report_stream_totals(level) -%}
    {%- set selects = [] -%}
    {%- for platform, stream in report_streams(level).items() -%}
        {%- for relation in landed_relations(platform, stream.table) -%}
            {%- set select -%}
    select
        cast('{{ platform }}' as {{ dbt.type_string() }}) as platform,
        cast('{{ relation.schema }}' as {{ dbt.type_string() }}) as source_relation,
        {{ report_day(stream.day) }} as date_day,
        sum({{ as_amount(stream.spend) }}) as spend,
        sum({{ as_amount(stream.impressions) }}) as impressions,
        sum({{ as_amount(stream.clicks) }}) as clicks
    from {{ relation }}
    group by {{ report_day(stream.day) }}
            {%- endset -%}
            {%- do selects.append(select) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if selects -%}
    {{ selects | join('\n    union all\n') }}
    {%- else %}
    {#- Nothing landed at this level: no rows, typed as above. -#}
    select
        cast(null as {{ dbt.type_string() }}) as platform,
        cast(null as {{ dbt.type_string() }}) as source_relation,
        cast(null as date) as date_day,
        {{ null_amount() }} as spend,
        {{ null_amount() }} as impressions,
        {{ null_amount() }} as clicks
    where 1 = 0
    {%- endif %}
{%- endmacro %}
