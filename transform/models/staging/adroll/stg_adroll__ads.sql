-- AdRoll ads, each with its ad group when it belongs to exactly one (see macros/only_ad_group.sql: the list holds
-- EID strings or {id, status} objects).
{% call(relation, columns) union_landed('adroll', 'ads',
    {'eid': 'text', 'name': 'text', 'advertisable_eid': 'text', 'adgroups': 'json'}) %}
select
    {{ as_id('eid') }} as ad_id,
    cast(name as {{ dbt.type_string() }}) as ad_name,
    {{ as_id('advertisable_eid') }} as account_id,
    {{ as_id(only_ad_group('adgroups')) }} as ad_group_id
from {{ relation }} as raw
{% endcall %}
