{#-
    One row per order line. Line cost = quantity × unit_cost (the line's, else the product's); with
    neither (no cost on the line and an unknown product, or a product without a cost) the cost is
    unknown: line_cost is null (never 0), and the line adds nothing to gross margin.
-#}
with

order_lines as (
    select * from {{ ref('stg_sales__order_lines') }}
),

products as (
    select * from {{ ref('stg_sales__products') }}
),

final as (
    select
        order_lines.order_id,
        order_lines.line_number,
        order_lines.product_id,
        products.category,
        order_lines.quantity,
        order_lines.unit_price,
        coalesce(order_lines.discount_amount, 0) as discount_amount,
        coalesce(order_lines.unit_cost, products.unit_cost) as unit_cost,
        cast(
            order_lines.quantity * order_lines.unit_price - coalesce(order_lines.discount_amount, 0)
            as {{ dbt.type_numeric() }}
        ) as line_revenue,
        cast(
            order_lines.quantity * coalesce(order_lines.unit_cost, products.unit_cost)
            as {{ dbt.type_numeric() }}
        ) as line_cost
    from order_lines
    left join products
        on order_lines.product_id = products.product_id
)

select * from final
