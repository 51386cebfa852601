{#- The EID of the single ad group in AdRoll's list of an ad's ad groups (`ads.adgroups`), else null. The API sends
    the list as EID strings or as {id, status} objects (the docs show the first, production sends the second), and
    the tap may emit either: an element is an object with `id`, or an EID string. target-duckdb loads the list as
    JSON; target-postgres as text[] (strings) or jsonb[] (objects), both read here as one jsonb array.
    An ad in several ad groups has no single ad group to report under: splitting its numbers between them would
    be guessing. -#}
{% macro only_ad_group(expression) -%}
    {{ return(adapter.dispatch('only_ad_group', 'ad_reporting')(expression)) }}
{%- endmacro %}

{% macro duckdb__only_ad_group(expression) -%}
    case when json_array_length({{ expression }}) = 1 then
        case json_type({{ expression }} -> 0)
            when 'OBJECT' then {{ expression }} -> 0 ->> '$.id'
            else {{ expression }} ->> 0
        end
    end
{%- endmacro %}

{% macro postgres__only_ad_group(expression) -%}
    case when jsonb_array_length(to_jsonb({{ expression }})) = 1 then
        case jsonb_typeof(to_jsonb({{ expression }}) -> 0)
            when 'object' then to_jsonb({{ expression }}) -> 0 ->> 'id'
            else to_jsonb({{ expression }}) ->> 0
        end
    end
{%- endmacro %}
