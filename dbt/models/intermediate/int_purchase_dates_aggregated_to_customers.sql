{#- Purchase rhythm: the median gap in days between consecutive distinct purchase dates. -#}
with

purchases as (
    select * from {{ ref('int_orders_filtered_to_purchases') }}
),

purchase_dates as (
    select distinct
        purchases.customer_id,
        purchases.purchase_date
    from purchases
),

consecutive_dates as (
    select
        purchase_dates.customer_id,
        purchase_dates.purchase_date,
        lag(purchase_dates.purchase_date) over (
            partition by purchase_dates.customer_id order by purchase_dates.purchase_date
        ) as previous_purchase_date
    from purchase_dates
),

final as (
    select
        consecutive_dates.customer_id,
        count(*) as distinct_purchase_dates,
        cast(
            {{ median(dbt.datediff(
                'consecutive_dates.previous_purchase_date', 'consecutive_dates.purchase_date', 'day'
            )) }} as {{ type_double() }}
        ) as median_days_between_purchases
    from consecutive_dates
    group by consecutive_dates.customer_id
)

select * from final
