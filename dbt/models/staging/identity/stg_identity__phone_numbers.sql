with

source as (
    select * from {{ source('identity', 'phone_numbers') }}
),

final as (
    select
        source.phone_raw,
        source.phone_e164
    from source
    where source.default_region = '{{ env_var("C360_PHONE_REGION", "CN") | trim | upper or "CN" }}'
)

select * from final
