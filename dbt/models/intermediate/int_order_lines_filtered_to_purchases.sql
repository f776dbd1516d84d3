{#- The priced lines of purchases, with the purchase's customer and date. -#}
with

purchases as (
    select * from {{ ref('int_orders_filtered_to_purchases') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_priced') }}
),

final as (
    select
        order_lines.order_id,
        order_lines.line_number,
        purchases.customer_id,
        purchases.ordered_at,
        purchases.purchase_date,
        purchases.is_in_window,
        order_lines.product_id,
        order_lines.category,
        order_lines.line_revenue,
        order_lines.line_cost
    from order_lines
    inner join purchases
        on order_lines.order_id = purchases.order_id
)

select * from final
