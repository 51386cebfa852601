-- AdRoll ad groups and the campaign each belongs to.
select
    eid as ad_group_id,
    name as ad_group_name,
    campaign as campaign_id,
    advertisable_eid as account_id
from {{ source('tap_adroll', 'ad_groups') }}
