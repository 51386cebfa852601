-- AdRoll's daily ad report: one row per ad and report day (its primary key). The API states no
-- timezone for its days; money is in the currency the tap requested (`currency`, default USD). AdRoll's
-- reports carry no conversions.
select
    {{ report_day('"date"') }} as date_day,
    eid as ad_id,
    ad as reported_ad_name,
    currency,
    {{ as_count('impressions') }} as impressions,
    {{ as_count('clicks') }} as clicks,
    {{ as_amount('cost') }} as spend
from {{ source('tap_adroll', 'ad_report') }}
