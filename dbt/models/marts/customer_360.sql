with

customers as (
    select * from {{ ref('stg_sales__customers') }}
),

purchase_summary as (
    select * from {{ ref('int_purchases_aggregated_to_customers') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

final as (
    select
        customers.customer_id,
        customers.customer_name as name,
        customers.email,
        customers.phone,
        customers.tier,
        customers.region,
        customers.acquisition_channel,
        customers.sales_rep_id,
        customers.created_at,
        purchase_summary.first_purchase_date,
        purchase_summary.last_purchase_date,
        cast(coalesce(purchase_summary.purchases_lifetime, 0) as {{ dbt.type_bigint() }})
            as purchases_lifetime,
        cast(coalesce(purchase_summary.purchases_12m, 0) as {{ dbt.type_bigint() }}) as purchases_12m,
        cast(coalesce(purchase_summary.net_revenue_lifetime, 0) as {{ type_double() }})
            as net_revenue_lifetime,
        cast(coalesce(purchase_summary.net_revenue_12m, 0) as {{ type_double() }}) as net_revenue_12m,
        cast(coalesce(purchase_summary.gross_margin_lifetime, 0) as {{ type_double() }})
            as gross_margin_lifetime,
        cast(
            purchase_summary.net_revenue_lifetime / nullif(purchase_summary.purchases_lifetime, 0)
            as {{ type_double() }}
        ) as avg_order_value,
        cast(
            {{ dbt.datediff('purchase_summary.last_purchase_date', 'as_of.as_of_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_purchase
    from customers
    cross join as_of
    left join purchase_summary
        on customers.customer_id = purchase_summary.customer_id
)

select * from final
