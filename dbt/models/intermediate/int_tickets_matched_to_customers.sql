with

tickets as (
    select * from {{ ref('stg_service__tickets') }}
),

matched as (
    {{ match_to_customers('tickets', 'customer_id', 'requester_email', 'requester_phone') }}
),

final as (
    select * from matched
)

select * from final
