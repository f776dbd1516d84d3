with

responses as (
    select * from {{ ref('stg_survey__responses') }}
),

matched as (
    {{ match_to_customers('responses', 'customer_id', 'email', 'phone') }}
),

final as (
    select
        matched.response_id,
        matched.submitted_at,
        matched.submitted_date,
        matched.customer_id,
        matched.email,
        matched.email_normalized,
        matched.phone,
        matched.nps,
        matched.csat,
        matched.reliability,
        matched.assurance,
        matched.tangibles,
        matched.empathy,
        matched.responsiveness,
        matched.category_spend_12m,
        matched.comment,
        matched.matched_customer_id,
        matched.match_method,
        matched.unmatched_reason
    from matched
)

select * from final
