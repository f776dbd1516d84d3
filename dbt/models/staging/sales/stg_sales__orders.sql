with

source as (
    select * from {{ source('sales', 'orders') }}
    where _quarantine_reason is null
),

renamed as (
    select
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ parse_timestamp_utc(clean_text('ordered_at')) }} as ordered_at,
        {{ clean_text('channel') }} as channel,
        lower({{ clean_text('status') }}) as status,
        {{ parse_timestamp_utc(clean_text('updated_at')) }} as updated_at,
        _extract_date,
        _file_id,
        _line
    from source
),

latest as (
    {{ keep_first_row('renamed', 'order_id', newest_version_first()) }}
),

final as (
    select
        latest.order_id,
        latest.customer_id,
        latest.ordered_at,
        {{ business_date('latest.ordered_at') }} as ordered_date,
        latest.channel,
        latest.status,
        latest.updated_at
    from latest
)

select * from final
