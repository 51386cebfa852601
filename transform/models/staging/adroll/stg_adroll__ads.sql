-- AdRoll ads, each with its ad group when it belongs to exactly one (see macros/only_element.sql).
select
    eid as ad_id,
    name as ad_name,
    advertisable_eid as account_id,
    {{ only_element('adgroups') }} as ad_group_id
from {{ source('tap_adroll', 'ads') }}
