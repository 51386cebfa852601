-- AdRoll advertisables are the accounts.
{% call(relation, columns) union_landed('adroll', 'advertisables', {'eid': 'text', 'name': 'text'}) %}
select
    {{ as_id('eid') }} as account_id,
    cast(name as {{ dbt.type_string() }}) as account_name
from {{ relation }} as raw
{% endcall %}
