{#-
    Each purchaser's anchor category: the category with the most revenue in the customer's first
    purchase (the earliest by purchase_date, ordered_at, order_id); ties by the smaller category name.
    Lines without a category are left out; with none left the anchor is null.
-#}
with

purchases as (
    select * from {{ ref('int_orders_filtered_to_purchases') }}
),

purchase_lines as (
    select * from {{ ref('int_order_lines_filtered_to_purchases') }}
),

first_purchases as (
    {{ keep_first_row('purchases', 'customer_id', 'purchase_date, ordered_at, order_id') }}
),

first_purchase_categories as (
    select
        first_purchases.customer_id,
        purchase_lines.category,
        sum(purchase_lines.line_revenue) as category_revenue
    from first_purchases
    inner join purchase_lines
        on first_purchases.order_id = purchase_lines.order_id
    where purchase_lines.category is not null
    group by first_purchases.customer_id, purchase_lines.category
),

top_categories as (
    {{ keep_first_row('first_purchase_categories', 'customer_id', 'category_revenue desc, category') }}
),

final as (
    select
        first_purchases.customer_id,
        first_purchases.order_id as first_purchase_order_id,
        first_purchases.purchase_date as first_purchase_date,
        top_categories.category as anchor_category,
        cast(top_categories.category_revenue as {{ dbt.type_numeric() }}) as anchor_category_revenue
    from first_purchases
    left join top_categories
        on first_purchases.customer_id = top_categories.customer_id
)

select * from final
