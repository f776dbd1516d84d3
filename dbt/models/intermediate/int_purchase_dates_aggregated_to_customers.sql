{#- Purchase rhythm: the median gap in days between consecutive distinct purchase dates. -#}
with

purchases as (
    select * from {{ ref('int_orders_filtered_to_purchases') }}
),

consecutive_dates as (
    {{ distinct_purchase_dates_in_sequence('purchases') }}
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
