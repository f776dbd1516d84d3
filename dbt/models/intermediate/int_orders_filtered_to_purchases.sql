{#- Purchases: orders whose latest status is completed, dated on or before D, of a known customer. -#}
with

orders as (
    select * from {{ ref('stg_sales__orders') }}
),

customers as (
    select * from {{ ref('stg_sales__customers') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_priced') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

order_totals as (
    select
        order_lines.order_id,
        count(*) as line_count,
        sum(order_lines.line_revenue) as order_revenue,
        sum(order_lines.line_cost) as order_cost,
        -- Gross margin over the lines with a known cost; an unknown cost (null) adds nothing.
        sum(
            case when order_lines.line_cost is not null then order_lines.line_revenue - order_lines.line_cost end
        ) as order_margin,
        sum(case when order_lines.line_cost is null then order_lines.line_revenue end) as order_revenue_without_cost
    from order_lines
    group by order_lines.order_id
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        orders.ordered_date as purchase_date,
        coalesce(order_totals.line_count, 0) as line_count,
        cast(coalesce(order_totals.order_revenue, 0) as {{ dbt.type_numeric() }}) as order_revenue,
        cast(coalesce(order_totals.order_cost, 0) as {{ dbt.type_numeric() }}) as order_cost,
        cast(coalesce(order_totals.order_margin, 0) as {{ dbt.type_numeric() }}) as order_margin,
        cast(coalesce(order_totals.order_revenue_without_cost, 0) as {{ dbt.type_numeric() }})
            as order_revenue_without_cost,
        orders.ordered_date >= as_of.window_start_date as is_in_window
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
    cross join as_of
    left join order_totals
        on orders.order_id = order_totals.order_id
    where
        orders.status = 'completed'
        and orders.ordered_date <= as_of.as_of_date
)

select * from final
