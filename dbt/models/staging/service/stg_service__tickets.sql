with

latest as (
    select * from {{ ref('base_service__tickets_latest') }}
),

final as (
    select
        latest.ticket_id,
        latest.customer_id,
        latest.requester_name,
        latest.requester_email,
        lower(latest.requester_email) as requester_email_normalized,
        latest.requester_phone,
        latest.created_at,
        {{ business_date('latest.created_at') }} as created_date,
        latest.updated_at,
        latest.first_response_at,
        latest.solved_at,
        latest.channel,
        latest.ticket_type,
        latest.priority,
        latest.status,
        latest.satisfaction,
        latest.tags
    from latest
)

select * from final
