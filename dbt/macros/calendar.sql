{#- First day of the month of a date, as a date. -#}
{% macro month_start(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}

{#- First day of the year of a date, as a date. -#}
{% macro year_start(date_expression) -%}
    cast({{ dbt.date_trunc('year', date_expression) }} as date)
{%- endmacro %}
