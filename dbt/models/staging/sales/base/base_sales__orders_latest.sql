{{ config(materialized='incremental', unique_key='order_id', incremental_strategy='delete+insert',
          on_schema_change='fail') }}

with

source as (
    {{ unprocessed_source_rows(source('sales', 'orders')) }}
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

versions as (
    {{ with_kept_rows_of_same_keys('renamed', ['order_id']) }}
),

latest as (
    {{ keep_first_row('versions', 'order_id', newest_version_first()) }}
),

final as (
    select
        latest.order_id,
        latest.customer_id,
        latest.ordered_at,
        latest.channel,
        latest.status,
        latest.updated_at,
        latest._extract_date,
        latest._file_id,
        latest._line
    from latest
)

select * from final
