{#-
    Share of wallet at each matched survey response with category_spend_12m > 0, submitted on or
    before D: the customer's purchase revenue in the 365 days ending on the response's business
    date, divided by the category spend the respondent reported, capped at 1.
-#}
with

responses as (
    select * from {{ ref('int_responses_matched_to_customers') }}
),

purchases as (
    select * from {{ ref('int_orders_filtered_to_purchases') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

spend_responses as (
    select
        responses.response_id,
        responses.matched_customer_id as customer_id,
        responses.submitted_at,
        responses.submitted_date,
        responses.category_spend_12m
    from responses
    cross join as_of
    where
        responses.matched_customer_id is not null
        and responses.category_spend_12m > 0
        and responses.submitted_date <= as_of.as_of_date
),

revenue_to_responses as (
    select
        spend_responses.response_id,
        sum(purchases.order_revenue) as revenue
    from spend_responses
    inner join purchases
        on
            spend_responses.customer_id = purchases.customer_id
            and {{ window_start('spend_responses.submitted_date') }} <= purchases.purchase_date
            and spend_responses.submitted_date >= purchases.purchase_date
    group by spend_responses.response_id
),

scored as (
    select
        spend_responses.*,
        cast(coalesce(revenue_to_responses.revenue, 0) as {{ dbt.type_numeric() }}) as revenue_365d_to_response
    from spend_responses
    left join revenue_to_responses
        on spend_responses.response_id = revenue_to_responses.response_id
),

final as (
    select
        scored.response_id,
        scored.customer_id,
        scored.submitted_at,
        scored.submitted_date,
        scored.category_spend_12m,
        scored.revenue_365d_to_response,
        cast(scored.revenue_365d_to_response / scored.category_spend_12m as {{ type_double() }})
            as share_of_wallet_uncapped,
        cast(
            case
                when scored.revenue_365d_to_response > scored.category_spend_12m then 1
                else scored.revenue_365d_to_response / scored.category_spend_12m
            end as {{ type_double() }}
        ) as share_of_wallet,
        scored.revenue_365d_to_response > scored.category_spend_12m as is_share_of_wallet_capped
    from scored
)

select * from final
