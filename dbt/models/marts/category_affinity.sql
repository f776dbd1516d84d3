with

category_pairs as (
    select * from {{ ref('int_category_pairs_scored_for_affinity') }}
),

final as (
    select
        category_pairs.category_a,
        category_pairs.category_b,
        cast(category_pairs.customers_a as {{ dbt.type_bigint() }}) as customers_a,
        cast(category_pairs.customers_b as {{ dbt.type_bigint() }}) as customers_b,
        cast(category_pairs.customers_both as {{ dbt.type_bigint() }}) as customers_both,
        cast(category_pairs.confidence as {{ type_double() }}) as confidence,
        cast(category_pairs.lift as {{ type_double() }}) as lift
    from category_pairs
)

select * from final
