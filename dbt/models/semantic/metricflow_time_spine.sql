{#-
    MetricFlow's time spine: one row per day over a fixed span that covers every business date the
    warehouse can hold. Published with the mart (schema marts) so that `c360 metrics` finds it in the
    published file. The span is fixed, not read from the data, so the table never changes.
-#}
{%- set first_day = "cast('2000-01-01' as date)" -%}
{%- set last_day = "cast('2049-12-31' as date)" -%}

with

day_numbers as (
    select series.step as day_number
    from {{ number_series(dbt.datediff(first_day, last_day, 'day')) }}
),

final as (
    select cast({{ dbt.dateadd('day', 'day_numbers.day_number', first_day) }} as date) as date_day
    from day_numbers
)

select * from final
