{#-
  Open data-quality findings: what a warn-severity test found, kept until the data is fixed.

  A warning does not stop the refresh, so without a record it would scroll by once. The
  on-run-end hook keeps one row per warn-severity test that found rows, in
  ops.data_quality_findings (published with the mart; `c360 report` lists it): the test, the
  model it tests, how many rows it found the last time it ran, since when (the first run that
  found them; the clock restarts only after a run in which the test passed) and when it was last
  seen. A test that passes removes its finding; a test that did not run in this invocation
  leaves its row as it was. The scoped tests of an incremental base model re-test every row
  received since the last run in which they all passed (record_validated_file_ids keeps the
  watermark while one of them warns), so the count of an open finding is the whole count.
-#}

{% macro data_quality_findings_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='ops', identifier='data_quality_findings')) }}
{%- endmacro %}

{% macro record_data_quality_findings(results) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set findings = data_quality_findings_relation() -%}
    {%- set statements = [] -%}
    {%- for result in results
            if result.node.resource_type == 'test' and (result.node.config.severity or '') | lower == 'warn'
               and result.status in ['pass', 'warn'] -%}
        {%- set check = result.node.name -%}
        {%- if result.status == 'pass' -%}
            {%- do statements.append("delete from " ~ findings ~ " where check_name = '" ~ check ~ "'") -%}
        {%- else -%}
            {%- set tested = (result.node.attached_node or '').split('.') | last -%}
            {%- set about = (result.node.description or check) | replace("'", "''") -%}
            {#- an open finding keeps its first sighting; a new one starts now -#}
            {%- do statements.append(
                "update " ~ findings ~ " set failing_rows = " ~ (result.failures or 0) ~ ", last_seen_at = "
                ~ "current_timestamp where check_name = '" ~ check ~ "'") -%}
            {%- do statements.append(
                "insert into " ~ findings ~ " (check_name, tested_model, description, failing_rows, first_seen_at, "
                ~ "last_seen_at) select '" ~ check ~ "', '" ~ tested ~ "', '" ~ about ~ "', "
                ~ (result.failures or 0) ~ ", current_timestamp, current_timestamp where not exists (select 1 from "
                ~ findings ~ " where check_name = '" ~ check ~ "')") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not statements -%}{{ return('') }}{%- endif -%}
    {%- do statements.insert(0, "create schema if not exists ops") -%}
    {%- do statements.insert(1, "create table if not exists " ~ findings ~ " (check_name " ~ dbt.type_string()
                                ~ ", tested_model " ~ dbt.type_string() ~ ", description " ~ dbt.type_string()
                                ~ ", failing_rows " ~ dbt.type_bigint() ~ ", first_seen_at " ~ dbt.type_timestamp()
                                ~ ", last_seen_at " ~ dbt.type_timestamp() ~ ")") -%}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}
