{#- A column of a loaded table, or null when the table has no such column. Rokt's report schema is the union of
    the metrics each extracted account's help lists: a metric no account offers (view-through acquisitions, say)
    is not a column at all. -#}
{% macro column_or_null(relation, column) -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- else -%}
        {%- set names = [] -%}
    {%- endif -%}
    {{- column if column | lower in names else 'null' -}}
{%- endmacro %}
