{#-
  Data tests scoped to what an incremental refresh changed.

  A test that hashes or joins a whole big staging table (unique, relationships) costs in
  proportion to all history, not to the day's new data. Such a test may carry
      config: {meta: {incremental_scope: {base_model: <incremental base model>, key: <column>}}}
  and then, on an incremental run, checks only the rows whose `key` is one the base model
  received in a file not yet validated: every row of those keys, kept rows included, so a
  duplicate or orphan an incremental merge could create is still seen. The construction of the
  base models (one row per key, delete+insert on the key) guarantees the rest.

  "Validated" is a file id watermark per base model, advanced by the on-run-end hook only after
  a run in which every node succeeded and every scoped test of that base model ran. A run whose
  tests fail leaves the watermark where it was, so the next refresh tests those rows again.
  A full refresh, or a warehouse without a watermark yet, tests whole tables.
  Row-wise tests (not_null, accepted_values, ranges) stay unscoped: they are cheap scans and
  they guard the kept state too.
-#}

{#- The table of watermarks: one row per base model, the highest _file_id validated. -#}
{% macro validated_file_ids_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='staging',
                                  identifier='incremental_tests_validated_file_ids')) }}
{%- endmacro %}

{#- Tests take their `where` from here; dbt's own version plus the incremental scope above. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set scope = (config.get('meta') or {}).get('incremental_scope') -%}
    {%- if scope -%}
        {%- set touched = keys_received_since_validated(scope['base_model'], scope['key']) -%}
        {%- if touched -%}{%- do conditions.append(touched) -%}{%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- `key in (keys of rows of base_model newer than its watermark)`, or '' to test every row. -#}
{% macro keys_received_since_validated(base_model, key) -%}
    {%- if not execute or flags.FULL_REFRESH -%}{{ return('') }}{%- endif -%}
    {%- set watermarks = validated_file_ids_relation() -%}
    {%- if adapter.get_relation(watermarks.database, watermarks.schema, watermarks.identifier) is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set found = run_query(
        "select validated_through_file_id from " ~ watermarks
        ~ " where base_model = '" ~ base_model ~ "'") -%}
    {%- if found.rows | length == 0 or found.rows[0][0] is none -%}{{ return('') }}{%- endif -%}
    {%- set base = base_model_relation(base_model) -%}
    {{ return(key ~ ' in (select received.' ~ key ~ ' from ' ~ base ~ ' as received'
              ~ ' where received._file_id > ' ~ found.rows[0][0] ~ ')') }}
{%- endmacro %}

{#- The relation of a model by name, from the graph (a test may not ref() what it does not depend on). -#}
{% macro base_model_relation(model_name) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name == model_name -%}
            {{ return(api.Relation.create(database=node.database, schema=node.schema,
                                          identifier=node.alias)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error('incremental_scope names no model ' ~ model_name) }}
{%- endmacro %}

{#- on-run-end: SQL advancing the watermark of each base model whose scoped tests all ran in a run that passed. -#}
{% macro record_validated_file_ids(results) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set ran = results | map(attribute='node') | map(attribute='unique_id') | list -%}
    {%- for result in results -%}
        {%- if result.status not in ['success', 'pass', 'warn'] -%}{{ return('') }}{%- endif -%}
    {%- endfor -%}
    {%- set scoped_tests = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' -%}
        {%- set scope = (node.config.meta or {}).get('incremental_scope') -%}
        {%- if scope -%}
            {%- do scoped_tests.setdefault(scope['base_model'], []).append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set watermarks = validated_file_ids_relation() -%}
    {%- set statements = [] -%}
    {%- for base_model, test_ids in scoped_tests.items() -%}
        {%- set base = base_model_relation(base_model) -%}
        {%- set all_ran = test_ids | reject('in', ran) | list | length == 0 -%}
        {%- if all_ran and ('model.' ~ project_name ~ '.' ~ base_model) in ran -%}
            {%- do statements.append("delete from " ~ watermarks ~ " where base_model = '" ~ base_model ~ "'") -%}
            {%- do statements.append(
                "insert into " ~ watermarks ~ " (base_model, validated_through_file_id) select '"
                ~ base_model ~ "', max(validated._file_id) from " ~ base ~ " as validated") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if statements -%}
        {%- do statements.insert(0, "create table if not exists " ~ watermarks ~ " (base_model "
                                    ~ dbt.type_string() ~ ", validated_through_file_id " ~ dbt.type_bigint() ~ ")") -%}
        {{ return(statements | join(';\n')) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
