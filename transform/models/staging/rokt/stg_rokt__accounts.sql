-- Rokt accounts: the names of the accounts that reports only name by id.
select
    {{ as_id('"accountId"') }} as account_id,
    "accountName" as account_name
from {{ source('tap_rokt', 'accounts') }}
