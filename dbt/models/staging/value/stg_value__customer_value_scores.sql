with

source as (
    select * from {{ source('value', 'customer_value_scores') }}
),

final as (
    select
        source.customer_id,
        source.fit_id,
        cast(source.probability_alive as {{ type_double() }}) as probability_alive,
        cast(source.expected_purchases_365d as {{ type_double() }}) as expected_purchases_365d,
        cast(source.expected_margin_per_purchase as {{ type_double() }}) as expected_margin_per_purchase,
        cast(source.expected_margin_365d as {{ type_double() }}) as expected_margin_365d
    from source
)

select * from final
