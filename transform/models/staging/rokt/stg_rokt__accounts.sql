-- Rokt accounts: the names of the accounts that reports only name by id.
{% call(relation, columns) union_landed('rokt', 'accounts', {'accountId': 'text', 'accountName': 'text'}) %}
select
    {{ as_id('"accountId"') }} as account_id,
    cast("accountName" as {{ dbt.type_string() }}) as account_name
from {{ relation }} as raw
{% endcall %}
