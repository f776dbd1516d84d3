{{ config(materialized='incremental', unique_key=['order_id', 'line_number'],
          incremental_strategy='delete+insert', on_schema_change='fail') }}

with

source as (
    {{ unprocessed_source_rows(source('sales', 'order_lines')) }}
),

renamed as (
    select
        {{ clean_text('order_id') }} as order_id,
        cast({{ clean_text('line_number') }} as {{ dbt.type_int() }}) as line_number,
        {{ clean_text('product_id') }} as product_id,
        {{ to_money('quantity') }} as quantity,
        {{ to_money('unit_price') }} as unit_price,
        {{ to_money('discount_amount') }} as discount_amount,
        {{ to_money('unit_cost') }} as unit_cost,
        _extract_date,
        _file_id,
        _line
    from source
),

versions as (
    {{ with_kept_rows_of_same_keys('renamed', ['order_id', 'line_number']) }}
),

latest as (
    {{ keep_first_row('versions', 'order_id, line_number', newest_version_first(updated_at=none)) }}
),

final as (
    select
        latest.order_id,
        latest.line_number,
        latest.product_id,
        latest.quantity,
        latest.unit_price,
        latest.discount_amount,
        latest.unit_cost,
        latest._extract_date,
        latest._file_id,
        latest._line
    from latest
)

select * from final
