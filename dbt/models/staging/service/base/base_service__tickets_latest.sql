{{ config(materialized='incremental', unique_key='ticket_id', incremental_strategy='delete+insert',
          on_schema_change='fail') }}

with

source as (
    {{ unprocessed_source_rows(source('service', 'tickets')) }}
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

versions as (
    {{ with_kept_rows_of_same_keys('renamed', ['ticket_id']) }}
),

latest as (
    {{ keep_first_row('versions', 'ticket_id', newest_version_first()) }}
),

final as (
    select
        latest.ticket_id,
        latest.customer_id,
        latest.requester_name,
        latest.requester_email,
        latest.requester_phone,
        latest.created_at,
        latest.updated_at,
        latest.first_response_at,
        latest.solved_at,
        latest.channel,
        latest.ticket_type,
        latest.priority,
        latest.status,
        latest.satisfaction,
        latest.tags,
        latest._extract_date,
        latest._file_id,
        latest._line
    from latest
)

select * from final
