with

source as (
    select * from {{ source('identity', 'phone_numbers') }}
),

final as (
    select
        source.phone_raw,
        source.phone_e164
    from source
    where source.default_region = '{{ var("phone_region") }}'
)

select * from final
