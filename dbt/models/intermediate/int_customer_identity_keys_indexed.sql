{#- Each email and phone of the ERP's customers (latest state), with how many customers share it. -#}
with

customers as (
    select * from {{ ref('stg_sales__customers') }}
),

phone_numbers as (
    select * from {{ ref('stg_identity__phone_numbers') }}
),

customer_keys as (
    select
        'email' as key_type,
        customers.email_normalized as key_value,
        customers.customer_id
    from customers
    where customers.email_normalized is not null

    union all

    select
        'phone' as key_type,
        phone_numbers.phone_e164 as key_value,
        customers.customer_id
    from customers
    inner join phone_numbers
        on customers.phone = phone_numbers.phone_raw
    where phone_numbers.phone_e164 is not null
),

final as (
    select
        customer_keys.key_type,
        customer_keys.key_value,
        count(distinct customer_keys.customer_id) as customers_with_key,
        min(customer_keys.customer_id) as customer_id
    from customer_keys
    group by customer_keys.key_type, customer_keys.key_value
)

select * from final
