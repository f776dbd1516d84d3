{#- Each category a purchaser bought (a purchased line with a known category), with its revenue. -#}
with

purchase_lines as (
    select * from {{ ref('int_order_lines_filtered_to_purchases') }}
),

final as (
    select
        purchase_lines.customer_id,
        purchase_lines.category,
        cast(sum(purchase_lines.line_revenue) as {{ dbt.type_numeric() }}) as revenue_lifetime
    from purchase_lines
    where purchase_lines.category is not null
    group by purchase_lines.customer_id, purchase_lines.category
)

select * from final
