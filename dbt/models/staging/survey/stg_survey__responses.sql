with

first_received as (
    select * from {{ ref('base_survey__responses_first_received') }}
),

final as (
    select
        first_received.response_id,
        first_received.submitted_at,
        {{ business_date('first_received.submitted_at') }} as submitted_date,
        first_received.customer_id,
        first_received.email,
        lower(first_received.email) as email_normalized,
        first_received.phone,
        first_received.nps,
        first_received.csat,
        first_received.reliability,
        first_received.assurance,
        first_received.tangibles,
        first_received.empathy,
        first_received.responsiveness,
        first_received.category_spend_12m,
        first_received.comment
    from first_received
)

select * from final
