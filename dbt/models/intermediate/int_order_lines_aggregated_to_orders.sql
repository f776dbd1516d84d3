{#- One row per order that has lines: its line count, revenue and cost (exact decimals). -#}
with

order_lines as (
    select * from {{ ref('int_order_lines_priced') }}
),

final as (
    select
        order_lines.order_id,
        count(*) as line_count,
        sum(order_lines.line_revenue) as order_revenue,
        sum(order_lines.line_cost) as order_cost
    from order_lines
    group by order_lines.order_id
)

select * from final
