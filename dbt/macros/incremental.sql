{#-
  Incremental staging. A base model keeps one row per key (the winning version) together with
  its lineage (_extract_date, _file_id, _line). An incremental run reads only raw rows of files
  loaded since the last run (file ids only grow), adds the kept rows of the same keys, ranks
  them with the model's usual order and replaces those keys (delete+insert on the unique key).
  The ranking sees every candidate version, so the result equals a full rebuild.
-#}

{#- Accepted raw rows of a source this model has not processed yet (all of them on a full build). -#}
{% macro unprocessed_source_rows(source_relation) -%}
    select * from {{ source_relation }}
    where _quarantine_reason is null
    {%- if is_incremental() %}
        and _file_id > (select coalesce(max(processed._file_id), -1) from {{ this }} as processed)
    {%- endif %}
{%- endmacro %}

{#- New rows of `new_rows_cte`, plus (incremental run) the kept rows of the keys they touch. -#}
{% macro with_kept_rows_of_same_keys(new_rows_cte, key_columns) -%}
    {%- if is_incremental() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        select {% for column in columns %}{{ new_rows_cte }}.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
        from {{ new_rows_cte }}
        union all
        select {% for column in columns %}kept.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
        from {{ this }} as kept
        inner join (select distinct {{ key_columns | join(', ') }} from {{ new_rows_cte }}) as touched_keys
            on {% for key in key_columns %}kept.{{ key }} = touched_keys.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
    {%- else -%}
        select * from {{ new_rows_cte }}
    {%- endif -%}
{%- endmacro %}
