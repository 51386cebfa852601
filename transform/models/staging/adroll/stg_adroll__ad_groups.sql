-- AdRoll ad groups and the campaign each belongs to.
{% call(relation, columns) union_landed('adroll', 'ad_groups',
    {'eid': 'text', 'name': 'text', 'campaign': 'text', 'advertisable_eid': 'text'}) %}
select
    {{ as_id('eid') }} as ad_group_id,
    cast(name as {{ dbt.type_string() }}) as ad_group_name,
    {{ as_id('campaign') }} as campaign_id,
    {{ as_id('advertisable_eid') }} as account_id
from {{ relation }} as raw
{% endcall %}
