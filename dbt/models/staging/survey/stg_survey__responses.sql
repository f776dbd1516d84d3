with

source as (
    select * from {{ source('survey', 'responses') }}
    where _quarantine_reason is null
),

renamed as (
    select
        {{ clean_text('response_id') }} as response_id,
        {{ parse_timestamp_utc(clean_text('submitted_at')) }} as submitted_at,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('email') }} as email,
        {{ clean_text('phone') }} as phone,
        cast({{ clean_text('nps') }} as {{ dbt.type_int() }}) as nps,
        cast({{ clean_text('csat') }} as {{ dbt.type_int() }}) as csat,
        cast({{ clean_text('reliability') }} as {{ dbt.type_int() }}) as reliability,
        cast({{ clean_text('assurance') }} as {{ dbt.type_int() }}) as assurance,
        cast({{ clean_text('tangibles') }} as {{ dbt.type_int() }}) as tangibles,
        cast({{ clean_text('empathy') }} as {{ dbt.type_int() }}) as empathy,
        cast({{ clean_text('responsiveness') }} as {{ dbt.type_int() }}) as responsiveness,
        {{ to_money('category_spend_12m') }} as category_spend_12m,
        comment,
        _extract_date,
        _file_id,
        _line
    from source
),

first_received as (
    {#- Responses never change: the first copy received is the response. -#}
    {{ keep_first_row('renamed', 'response_id', '_file_id, _line') }}
),

final as (
    select
        first_received.response_id,
        first_received.submitted_at,
        {{ business_date('first_received.submitted_at') }} as submitted_date,
        first_received.customer_id,
        first_received.email,
        lower(first_received.email) as email_normalized,
        first_received.phone,
        first_received.nps,
        first_received.csat,
        first_received.reliability,
        first_received.assurance,
        first_received.tangibles,
        first_received.empathy,
        first_received.responsiveness,
        first_received.category_spend_12m,
        first_received.comment
    from first_received
)

select * from final
