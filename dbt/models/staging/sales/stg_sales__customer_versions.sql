with

source as (
    select * from {{ source('sales', 'customers') }}
    where _quarantine_reason is null
),

renamed as (
    select
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('name') }} as customer_name,
        {{ clean_text('email') }} as email,
        {{ clean_text('phone') }} as phone,
        lower({{ clean_text('tier') }}) as tier,
        {{ clean_text('region') }} as region,
        {{ clean_text('acquisition_channel') }} as acquisition_channel,
        {{ clean_text('sales_rep_id') }} as sales_rep_id,
        {{ parse_timestamp_utc(clean_text('created_at')) }} as created_at,
        {{ parse_timestamp_utc(clean_text('updated_at')) }} as updated_at,
        _extract_date as extract_date,
        _file_id as file_id,
        _line as line_number_in_file
    from source
),

final as (
    select
        renamed.*,
        {{ business_date('renamed.updated_at') }} as updated_date,
        row_number() over (
            partition by renamed.customer_id
            order by
                renamed.updated_at desc,
                renamed.extract_date desc,
                renamed.file_id desc,
                renamed.line_number_in_file desc
        ) as version_recency_rank
    from renamed
)

select * from final
