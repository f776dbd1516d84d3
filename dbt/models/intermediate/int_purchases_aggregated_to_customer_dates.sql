{#-
    One row per purchaser and purchase date: the transactions of the customer-value models
    (several purchases on one date are one transaction, as in the purchase rhythm).
-#}
with

purchases as (
    select * from {{ ref('int_orders_filtered_to_purchases') }}
),

final as (
    select
        purchases.customer_id,
        purchases.purchase_date,
        count(*) as purchases,
        sum(purchases.order_revenue) as revenue,
        sum(purchases.order_margin) as margin
    from purchases
    group by purchases.customer_id, purchases.purchase_date
)

select * from final
