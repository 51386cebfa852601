-- Rokt's daily campaign report: one row per account, report day and campaign (its primary key).
-- Clicks are referrals ("positive engagements with the ad"), conversions are acquisitions: click-through plus
-- view-through, where the account's help lists view-through (an account that does not list it has none).
-- Rokt reports no conversion value.
{% set raw_columns = {
    'datetime': 'timestamp', 'account_id': 'text', 'campaign_id': 'text', 'currency_code': 'text', 'timezone': 'text',
    'impressions': 'number', 'referrals': 'number', 'gross_cost': 'number', 'clickthru_acquisitions': 'number',
    'viewthru_acquisitions': 'number'} %}
{% call(relation, columns) union_landed('rokt', 'campaign_report', raw_columns) %}
select
    {{ report_day('datetime') }} as date_day,
    {{ as_id('account_id') }} as account_id,
    {{ as_id('campaign_id') }} as campaign_id,
    cast(currency_code as {{ dbt.type_string() }}) as currency,
    cast(timezone as {{ dbt.type_string() }}) as report_timezone,
    {{ as_count('impressions') }} as impressions,
    {{ as_count('referrals') }} as clicks,
    {{ as_amount('gross_cost') }} as spend,
    {{ as_amount(column_or_null(columns, 'clickthru_acquisitions')) }}
        + coalesce({{ as_amount(column_or_null(columns, 'viewthru_acquisitions')) }}, 0) as conversions
from {{ relation }} as raw
{% endcall %}
