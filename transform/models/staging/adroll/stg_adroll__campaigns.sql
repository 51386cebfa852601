-- AdRoll campaigns (active and inactive) and the advertisable each belongs to.
{% call(relation, columns) union_landed('adroll', 'campaigns', {'eid': 'text', 'name': 'text', 'advertisable_eid': 'text'}) %}
select
    {{ as_id('eid') }} as campaign_id,
    cast(name as {{ dbt.type_string() }}) as campaign_name,
    {{ as_id('advertisable_eid') }} as account_id
from {{ relation }} as raw
{% endcall %}
