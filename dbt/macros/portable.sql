{#- Engine-specific SQL lives here, behind adapter.dispatch, so the models stay portable. -#}

{#- Text to a UTC timestamp (no zone); text without an offset is UTC. Unparseable text is null. -#}
{% macro parse_timestamp_utc(expression) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc', 'c360')(expression)) }}
{%- endmacro %}

{% macro default__parse_timestamp_utc(expression) -%}
    cast(to_utc_timestamp(cast({{ expression }} as timestamp), 'UTC') as timestamp)
{%- endmacro %}

{% macro duckdb__parse_timestamp_utc(expression) -%}
    cast(try_cast({{ expression }} as timestamptz) as timestamp)
{%- endmacro %}

{#- A UTC timestamp to its business date in the business time zone (var timezone: C360_TIMEZONE). -#}
{% macro business_date(expression) -%}
    {{ return(adapter.dispatch('business_date', 'c360')(expression)) }}
{%- endmacro %}

{% macro default__business_date(expression) -%}
    to_date(from_utc_timestamp({{ expression }}, '{{ business_timezone() }}'))
{%- endmacro %}

{% macro duckdb__business_date(expression) -%}
    cast(timezone('{{ business_timezone() }}', cast({{ expression }} as timestamptz)) as date)
{%- endmacro %}

{% macro business_timezone() -%}
    {{- var('timezone') -}}
{%- endmacro %}

{#- A cast that yields null instead of failing. -#}
{% macro try_cast(expression, type) -%}
    {{ return(adapter.dispatch('try_cast', 'c360')(expression, type)) }}
{%- endmacro %}

{% macro default__try_cast(expression, type) -%}
    try_cast({{ expression }} as {{ type }})
{%- endmacro %}

{#- Median of a numeric expression (an aggregate). -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'c360')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{#- Rows `step` = 0, 1, …, last_number (a scalar expression or an earlier FROM item's column); a FROM item. -#}
{% macro number_series(last_number) -%}
    {{ return(adapter.dispatch('number_series', 'c360')(last_number)) }}
{%- endmacro %}

{% macro default__number_series(last_number) -%}
    generate_series(0, {{ last_number }}) as series (step)
{%- endmacro %}

{#- Hours between two timestamps, with fractions. -#}
{% macro hours_between(start_expression, end_expression) -%}
    ({{ dbt.datediff(start_expression, end_expression, 'second') }} / 3600.0)
{%- endmacro %}

{#- 64-bit floating point, for published money and ratios (dbt.type_float is 32-bit on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'c360')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{#- Round to a whole number, halves away from zero (2.5 -> 3, -2.5 -> -3), on every engine. -#}
{% macro round_half_away_from_zero(expression) -%}
    {{ return(adapter.dispatch('round_half_away_from_zero', 'c360')(expression)) }}
{%- endmacro %}

{% macro default__round_half_away_from_zero(expression) -%}
    (sign({{ expression }}) * floor(abs({{ expression }}) + 0.5))
{%- endmacro %}
