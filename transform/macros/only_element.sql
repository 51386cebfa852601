{#- The single element of a list of ids, else null: AdRoll's `ads.adgroups`, which target-duckdb loads as a JSON
    array and target-postgres as a text[]. An ad in several ad groups has no single ad group to report under:
    splitting its numbers between them would be guessing. -#}
{% macro only_element(expression) -%}
    {{ return(adapter.dispatch('only_element', 'ad_reporting')(expression)) }}
{%- endmacro %}

{% macro duckdb__only_element(expression) -%}
    case when json_array_length({{ expression }}) = 1 then {{ expression }} ->> 0 end
{%- endmacro %}

{% macro postgres__only_element(expression) -%}
    case when cardinality({{ expression }}) = 1 then {{ expression }}[1] end
{%- endmacro %}
