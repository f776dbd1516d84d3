{#-
  Data tests scoped to what an incremental refresh changed.

  A test that hashes or joins a whole big staging table (unique, relationships) costs in
  proportion to all history, not to the day's new data. The generic tests below
  (unique_since_validated, unique_combination_since_validated, relationships_since_validated)
  do what dbt's unique, unique_combination and relationships do, but take the incremental base
  model and a key as arguments:
      - unique_since_validated:
          arguments: {base_model: <incremental base model>, key: <column>}
  On an incremental run they check only the rows whose `key` is one the base model received in
  a file not yet validated: every row of those keys, kept rows included, so a duplicate or
  orphan an incremental merge could create is still seen. The construction of the base models
  (one row per key, delete+insert on the key) guarantees the rest.

  "Validated" is a file id watermark per base model, advanced by the on-run-end hook only after
  a run in which every node succeeded and every scoped test of that base model ran and passed. A
  run whose tests fail, or whose scoped tests of that base model warn, leaves the watermark where
  it was, so the next refresh tests those rows again.
  A full refresh, or a warehouse without a watermark yet, tests whole tables.
  Row-wise tests (not_null, accepted_values, ranges) stay unscoped: they are cheap scans and
  they guard the kept state too.
-#}

{#- The table of watermarks: one row per base model, the highest _file_id validated. -#}
{% macro validated_file_ids_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='staging',
                                  identifier='incremental_tests_validated_file_ids')) }}
{%- endmacro %}

{#- Generic test: `column_name` is unique, over the rows received since the base model's watermark. -#}
{% test unique_since_validated(model, column_name, base_model, key) %}
    select
        {{ column_name }} as unique_field,
        count(*) as n_records
    from {{ rows_received_since_validated(model, base_model, key) }}
    where {{ column_name }} is not null
    group by {{ column_name }}
    having count(*) > 1
{% endtest %}

{#- Generic test: no two rows share the combination of `columns`, over the rows received since the watermark. -#}
{% test unique_combination_since_validated(model, columns, base_model, key) %}
    select
        {{ columns | join(', ') }},
        count(*) as rows_with_combination
    from {{ rows_received_since_validated(model, base_model, key) }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Generic test: every non-null `column_name` is a `field` of `to`, over the rows received since the watermark. -#}
{% test relationships_since_validated(model, column_name, to, field, base_model, key) %}
    with

    child as (
        select {{ column_name }} as from_field
        from {{ rows_received_since_validated(model, base_model, key) }}
        where {{ column_name }} is not null
    ),

    parent as (
        select {{ field }} as to_field
        from {{ to }}
    )

    select child.from_field
    from child
    left join parent
        on child.from_field = parent.to_field
    where parent.to_field is null
{% endtest %}

{#- What a scoped test reads: on an incremental run, the rows of `model` whose `key` base_model
    received since its watermark (a subquery); else `model` itself, every row. -#}
{% macro rows_received_since_validated(model, base_model, key) -%}
    {%- set received = keys_received_since_validated(base_model, key) -%}
    {%- if received -%}
        {{ return('(select * from ' ~ model ~ ' where ' ~ received ~ ') as rows_received_since_validated') }}
    {%- endif -%}
    {{ return(model) }}
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
    {{ exceptions.raise_compiler_error('base_model names no model: ' ~ model_name) }}
{%- endmacro %}

{#- on-run-end: SQL advancing the watermark of each base model whose scoped tests all ran and
    passed in a run that passed. A scoped test that warns (found rows, severity warn) keeps its base
    model's watermark, so the next refresh tests those rows again and reports the finding with its
    whole count until the data is fixed (see data_quality_findings.sql), never `WARN=0` over rows
    that are still wrong. -#}
{% macro record_validated_file_ids(results) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set ran = results | selectattr('status', 'in', ['success', 'pass', 'no-op'])
                          | map(attribute='node') | map(attribute='unique_id') | list -%}
    {%- for result in results -%}
        {#- no-op: a node dbt does not run, such as the dashboard exposure -#}
        {%- if result.status not in ['success', 'pass', 'warn', 'no-op'] -%}{{ return('') }}{%- endif -%}
    {%- endfor -%}
    {%- set scoped_tests = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' -%}
        {%- set generic = node.test_metadata or {} -%}
        {%- if (generic.name or '').endswith('_since_validated') -%}
            {%- do scoped_tests.setdefault(generic.kwargs.base_model, []).append(node.unique_id) -%}
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
