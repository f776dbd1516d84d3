with

latest as (
    select * from {{ ref('base_sales__order_lines_latest') }}
),

final as (
    select
        latest.order_id,
        latest.line_number,
        latest.product_id,
        latest.quantity,
        latest.unit_price,
        latest.discount_amount,
        latest.unit_cost
    from latest
)

select * from final
