with

tickets as (
    select * from {{ ref('int_tickets_matched_to_customers') }}
),

responses as (
    select * from {{ ref('int_responses_matched_to_customers') }}
),

unmatched as (
    select
        'tickets' as source_entity,
        tickets.ticket_id as record_id,
        tickets.created_at as record_at,
        tickets.customer_id as given_customer_id,
        tickets.requester_email as given_email,
        tickets.requester_phone as given_phone,
        tickets.unmatched_reason
    from tickets
    where tickets.matched_customer_id is null

    union all

    select
        'responses' as source_entity,
        responses.response_id as record_id,
        responses.submitted_at as record_at,
        responses.customer_id as given_customer_id,
        responses.email as given_email,
        responses.phone as given_phone,
        responses.unmatched_reason
    from responses
    where responses.matched_customer_id is null
),

final as (
    select * from unmatched
)

select * from final
