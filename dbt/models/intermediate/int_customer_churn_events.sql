{#-
    Churn and reactivation events of metrics.md, from each customer's distinct purchase dates.
    churn: on p + 365 for a purchase date p followed by no purchase in the 365 days after p
    (only events dated on or before D have happened). reactivation: a purchase on a date n by a
    customer churned as of n − 1, i.e. whose previous purchase date is more than 365 days before n.
-#}
with

purchases as (
    select * from {{ ref('int_orders_filtered_to_purchases') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

purchase_date_gaps as (
    {{ distinct_purchase_dates_in_sequence('purchases') }}
),

churns as (
    select
        purchase_date_gaps.customer_id,
        'churn' as event_type,
        cast({{ dbt.dateadd('day', churn_after_days(), 'purchase_date_gaps.purchase_date') }} as date) as event_date,
        purchase_date_gaps.purchase_date as last_purchase_date
    from purchase_date_gaps
    where
        purchase_date_gaps.next_purchase_date is null
        or {{ dbt.datediff('purchase_date_gaps.purchase_date', 'purchase_date_gaps.next_purchase_date', 'day') }}
        > {{ churn_after_days() }}
),

reactivations as (
    select
        purchase_date_gaps.customer_id,
        'reactivation' as event_type,
        purchase_date_gaps.purchase_date as event_date,
        purchase_date_gaps.previous_purchase_date as last_purchase_date
    from purchase_date_gaps
    where
        {{ dbt.datediff('purchase_date_gaps.previous_purchase_date', 'purchase_date_gaps.purchase_date', 'day') }}
        > {{ churn_after_days() }}
),

events as (
    select * from churns
    union all
    select * from reactivations
),

final as (
    select
        events.customer_id,
        events.event_type,
        events.event_date,
        events.last_purchase_date,
        cast(
            {{ dbt.datediff('events.last_purchase_date', 'events.event_date', 'day') }} as {{ dbt.type_int() }}
        ) as days_since_last_purchase
    from events
    cross join as_of
    where events.event_date <= as_of.as_of_date
)

select * from final
