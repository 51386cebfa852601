-- AdRoll campaigns (active and inactive) and the advertisable each belongs to.
select
    eid as campaign_id,
    name as campaign_name,
    advertisable_eid as account_id
from {{ source('tap_adroll', 'campaigns') }}
