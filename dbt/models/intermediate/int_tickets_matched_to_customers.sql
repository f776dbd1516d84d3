with

tickets as (
    select * from {{ ref('stg_service__tickets') }}
),

matched as (
    {{ match_to_customers('tickets', 'customer_id', 'requester_email', 'requester_phone') }}
),

final as (
    select
        matched.ticket_id,
        matched.customer_id,
        matched.requester_name,
        matched.requester_email,
        matched.requester_email_normalized,
        matched.requester_phone,
        matched.created_at,
        matched.created_date,
        matched.updated_at,
        matched.first_response_at,
        matched.solved_at,
        matched.channel,
        matched.ticket_type,
        matched.priority,
        matched.status,
        matched.satisfaction,
        matched.tags,
        matched.matched_customer_id,
        matched.match_method,
        matched.unmatched_reason
    from matched
)

select * from final
