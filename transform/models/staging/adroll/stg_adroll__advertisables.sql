-- AdRoll advertisables are the accounts.
select
    eid as account_id,
    name as account_name
from {{ source('tap_adroll', 'advertisables') }}
