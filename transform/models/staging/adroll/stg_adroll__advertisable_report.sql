-- AdRoll's daily advertisable (account) report: one row per advertisable and report day (its primary key). The API states no
-- timezone for its days; money is in the currency the tap requested (`currency`, default USD). AdRoll's
-- reports carry no conversions.
select
    {{ report_day('"date"') }} as date_day,
    eid as account_id,
    advertisable as reported_account_name,
    currency,
    {{ as_count('impressions') }} as impressions,
    {{ as_count('clicks') }} as clicks,
    {{ as_amount('cost') }} as spend
from {{ source('tap_adroll', 'advertisable_report') }}
