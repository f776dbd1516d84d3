with

purchases as (
    select * from {{ ref('int_orders_filtered_to_purchases') }}
),

final as (
    select
        purchases.customer_id,
        min(purchases.purchase_date) as first_purchase_date,
        max(purchases.purchase_date) as last_purchase_date,
        count(*) as purchases_lifetime,
        sum(case when purchases.is_in_window then 1 else 0 end) as purchases_12m,
        sum(purchases.order_revenue) as net_revenue_lifetime,
        sum(case when purchases.is_in_window then purchases.order_revenue else 0 end) as net_revenue_12m,
        sum(purchases.order_margin) as gross_margin_lifetime,
        sum(purchases.order_revenue_without_cost) as revenue_without_cost_lifetime
    from purchases
    group by purchases.customer_id
)

select * from final
