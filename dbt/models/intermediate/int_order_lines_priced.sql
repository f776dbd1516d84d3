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
            order_lines.quantity * coalesce(order_lines.unit_cost, products.unit_cost, 0)
            as {{ dbt.type_numeric() }}
        ) as line_cost
    from order_lines
    left join products
        on order_lines.product_id = products.product_id
)

select * from final
