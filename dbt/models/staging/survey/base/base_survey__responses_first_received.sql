{{ config(materialized='incremental', unique_key='response_id', incremental_strategy='delete+insert',
          on_schema_change='fail') }}

with

source as (
    {{ unprocessed_source_rows(source('survey', 'responses')) }}
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

versions as (
    {{ with_kept_rows_of_same_keys('renamed', ['response_id']) }}
),

first_received as (
    {#- Responses never change: the first copy received is the response. -#}
    {{ keep_first_row('versions', 'response_id', '_file_id, _line') }}
),

final as (
    select
        first_received.response_id,
        first_received.submitted_at,
        first_received.customer_id,
        first_received.email,
        first_received.phone,
        first_received.nps,
        first_received.csat,
        first_received.reliability,
        first_received.assurance,
        first_received.tangibles,
        first_received.empathy,
        first_received.responsiveness,
        first_received.category_spend_12m,
        first_received.comment,
        first_received._extract_date,
        first_received._file_id,
        first_received._line
    from first_received
)

select * from final
