{#- The as-of date D of metrics.md, as a scalar SQL expression. -#}
{% macro as_of_date() -%}
    (select as_of_date from {{ ref('int_as_of_date_resolved') }})
{%- endmacro %}

{#- Text of a money column to the warehouse's exact decimal type. -#}
{% macro to_money(expression) -%}
    {{ try_cast("nullif(trim(" ~ expression ~ "), '')", dbt.type_numeric()) }}
{%- endmacro %}

{#- Raw text to a trimmed value, empty as null. -#}
{% macro clean_text(expression) -%}
    nullif(trim({{ expression }}), '')
{%- endmacro %}

{#- Newest version first: newest updated_at, then the later extract, then the later load and line. -#}
{% macro newest_version_first(updated_at='updated_at') -%}
    {%- if updated_at %}{{ updated_at }} desc, {% endif -%}
    _extract_date desc, _file_id desc, _line desc
{%- endmacro %}

{#- Rows of `from_cte` keeping only the first row of each partition in `order_by` order. -#}
{% macro keep_first_row(from_cte, partition_by, order_by) -%}
    select ranked.*
    from (
        select
            {{ from_cte }}.*,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as version_rank
        from {{ from_cte }}
    ) as ranked
    where ranked.version_rank = 1
{%- endmacro %}

{#- First business date of the window of `window_days` (365) days ending on `date_expression` (D − 364). -#}
{% macro window_start(date_expression) -%}
    cast({{ dbt.dateadd('day', 1 - var('window_days'), date_expression) }} as date)
{%- endmacro %}
