with

latest as (
    select * from {{ ref('base_sales__orders_latest') }}
),

final as (
    select
        latest.order_id,
        latest.customer_id,
        latest.ordered_at,
        {{ business_date('latest.ordered_at') }} as ordered_date,
        latest.channel,
        latest.status,
        latest.updated_at
    from latest
)

select * from final
