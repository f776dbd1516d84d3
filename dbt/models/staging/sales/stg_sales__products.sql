with

source as (
    select * from {{ source('sales', 'products') }}
    where _quarantine_reason is null
),

renamed as (
    select
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('product_name') }} as product_name,
        {{ clean_text('category') }} as category,
        {{ to_money('unit_cost') }} as unit_cost,
        {{ to_money('list_price') }} as list_price,
        {{ parse_timestamp_utc(clean_text('updated_at')) }} as updated_at,
        _extract_date,
        _file_id,
        _line
    from source
),

latest as (
    {{ keep_first_row('renamed', 'product_id', newest_version_first()) }}
),

final as (
    select
        latest.product_id,
        latest.product_name,
        latest.category,
        latest.unit_cost,
        latest.list_price,
        latest.updated_at
    from latest
)

select * from final
