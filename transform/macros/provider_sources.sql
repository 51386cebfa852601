{#- Which loaded tables feed a staging model. A provider is read when its `ad_reporting__<platform>_enabled` variable
    (Fivetran's name; default true) allows it, from every schema of its `<platform>_union_schemas` variable (default:
    the tap's namespace, `tap_<platform>`): one schema per login, each extractor landing in its own. A table that has
    not landed (yet) is skipped, so any subset of providers and streams builds; the model is then an empty,
    typed relation. -#}

{% macro provider_enabled(platform) -%}
    {{ return(var('ad_reporting__' ~ platform ~ '_enabled', true) | string | lower not in ['false', '0', 'no']) }}
{%- endmacro %}

{% macro provider_schemas(platform) -%}
    {%- set schemas = var(platform ~ '_union_schemas', ['tap_' ~ platform]) -%}
    {{ return([schemas] if schemas is string else schemas) }}
{%- endmacro %}

{#- The loaded relations of one stream, one per schema of the provider's union where the table exists. With
    warn, a missing table of a loaded schema is a warning naming it (the stream has not landed yet); a schema
    that does not exist at all is the provider (login) not loaded: an info line. -#}
{% macro landed_relations(platform, table, warn=false) -%}
    {%- set found = [] -%}
    {%- if provider_enabled(platform) -%}
        {%- set declared = source('tap_' ~ platform, table) -%}
        {%- if execute -%}
            {%- for schema in provider_schemas(platform) -%}
                {%- set relation = adapter.get_relation(database=declared.database, schema=schema,
                                                        identifier=declared.identifier) -%}
                {%- if relation is not none -%}
                    {%- do found.append(relation) -%}
                {%- elif warn and adapter.check_schema_exists(declared.database, schema) -%}
                    {%- do exceptions.warn('Warning: ' ~ schema ~ '.' ~ declared.identifier ~ ' has not landed yet (no such table): '
                        ~ model.name ~ ' has no rows from it until it does') -%}
                {%- elif warn -%}
                    {{- log(model.name ~ ': schema ' ~ schema ~ ' does not exist (' ~ platform
                        ~ ' not loaded there), nothing to read from it', info=true) -}}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}

{#- A stream's raw columns as a typed relation with no rows: what a staging model reads when nothing has landed,
    so its columns keep their types. raw_columns maps each column it reads to text, timestamp, number or json. -#}
{% macro empty_relation(raw_columns) -%}
    {%- set types = {'text': dbt.type_string(), 'timestamp': dbt.type_timestamp(), 'number': dbt.type_float(),
                     'json': json_type()} -%}
    (select
    {%- for name, kind in raw_columns.items() %}
        cast(null as {{ types[kind] }}) as {{ adapter.quote(name) }}{{ ',' if not loop.last }}
    {%- endfor %}
    where 1 = 0)
{%- endmacro %}

{% macro json_type() -%} {{ return(adapter.dispatch('json_type', 'ad_reporting')()) }} {%- endmacro %}
{% macro duckdb__json_type() -%} json {%- endmacro %}
{% macro postgres__json_type() -%} jsonb {%- endmacro %}

{#- The staging select (the caller, given a relation and its lower-case column names) over every landed relation
    of the stream, each row stamped with source_relation: the schema it was loaded into (Fivetran's column for
    unioned connectors). Nothing landed: the same select over a typed empty relation. -#}
{% macro union_landed(platform, table, raw_columns) -%}
    {%- for relation in landed_relations(platform, table, warn=true) %}
    select cast('{{ relation.schema }}' as {{ dbt.type_string() }}) as source_relation, staged.*
    from (
        {{ caller(relation, adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list) }}
    ) as staged
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as source_relation, staged.*
    from (
        {{ caller(empty_relation(raw_columns), raw_columns.keys() | map('lower') | list) }}
    ) as staged
    {%- endfor %}
{%- endmacro %}

{#- A column of a loaded table, or null when the table has no such column. Rokt's report schema is the union of
    the metrics each extracted account's help lists: a metric no account offers (view-through acquisitions, say)
    is not a column at all. -#}
{% macro column_or_null(columns, column) -%}
    {{- column if column | lower in columns else 'null' -}}
{%- endmacro %}
