with

responses as (
    select * from {{ ref('stg_survey__responses') }}
),

matched as (
    {{ match_to_customers('responses', 'customer_id', 'email', 'phone') }}
),

final as (
    select * from matched
)

select * from final
