{#- D: the var as_of (C360_AS_OF) when set, else the latest business date found in the loaded sources. -#}
{%- set as_of_setting = var('as_of') | trim -%}

with

customer_versions as (
    select * from {{ ref('stg_sales__customer_versions') }}
),

orders as (
    select * from {{ ref('stg_sales__orders') }}
),

tickets as (
    select * from {{ ref('stg_service__tickets') }}
),

responses as (
    select * from {{ ref('stg_survey__responses') }}
),

source_business_dates as (
    select max(customer_versions.updated_date) as business_date from customer_versions
    union all
    select max(orders.ordered_date) as business_date from orders
    union all
    select max({{ business_date('orders.updated_at') }}) as business_date from orders
    union all
    select max({{ business_date('tickets.updated_at') }}) as business_date from tickets
    union all
    select max(tickets.created_date) as business_date from tickets
    union all
    select max(responses.submitted_date) as business_date from responses
),

resolved as (
    select
        coalesce(
            {{ "cast('" ~ as_of_setting ~ "' as date)" if as_of_setting else "null" }},
            max(source_business_dates.business_date),
            current_date
        ) as as_of_date
    from source_business_dates
),

final as (
    select
        resolved.as_of_date,
        {{ window_start('resolved.as_of_date') }} as window_start_date
    from resolved
)

select * from final
