with

source as (
    select * from {{ source('service', 'tickets') }}
    where _quarantine_reason is null
),

renamed as (
    select
        {{ clean_text('ticket_id') }} as ticket_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('requester_name') }} as requester_name,
        {{ clean_text('requester_email') }} as requester_email,
        {{ clean_text('requester_phone') }} as requester_phone,
        {{ parse_timestamp_utc(clean_text('created_at')) }} as created_at,
        {{ parse_timestamp_utc(clean_text('updated_at')) }} as updated_at,
        {{ parse_timestamp_utc(clean_text('first_response_at')) }} as first_response_at,
        {{ parse_timestamp_utc(clean_text('solved_at')) }} as solved_at,
        lower({{ clean_text('channel') }}) as channel,
        lower({{ clean_text('type') }}) as ticket_type,
        lower({{ clean_text('priority') }}) as priority,
        lower({{ clean_text('status') }}) as status,
        lower({{ clean_text('satisfaction') }}) as satisfaction,
        tags,
        _extract_date,
        _file_id,
        _line
    from source
),

latest as (
    {{ keep_first_row('renamed', 'ticket_id', newest_version_first()) }}
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
