{#-
    Category affinity (metrics.md): for each ordered pair of categories A != B, the purchasers who
    bought A, B and both, confidence = both / A and lift = confidence / (B / purchasers).
    Only pairs with customers_both >= var('affinity_min_customers') are kept.
-#}
with

customer_categories as (
    select * from {{ ref('int_purchase_lines_aggregated_to_customer_categories') }}
),

purchase_summary as (
    select * from {{ ref('int_purchases_aggregated_to_customers') }}
),

purchaser_count as (
    select count(*) as purchasers
    from purchase_summary
),

category_customers as (
    select
        customer_categories.category,
        count(*) as customers
    from customer_categories
    group by customer_categories.category
),

pair_customers as (
    select
        categories_a.category as category_a,
        categories_b.category as category_b,
        count(*) as customers_both
    from customer_categories as categories_a
    inner join customer_categories as categories_b
        on
            categories_a.customer_id = categories_b.customer_id
            and categories_a.category != categories_b.category
    group by categories_a.category, categories_b.category
),

category_pairs as (
    select
        customers_a.category as category_a,
        customers_b.category as category_b,
        customers_a.customers as customers_a,
        customers_b.customers as customers_b,
        coalesce(pair_customers.customers_both, 0) as customers_both
    from category_customers as customers_a
    inner join category_customers as customers_b
        on customers_a.category != customers_b.category
    left join pair_customers
        on
            customers_a.category = pair_customers.category_a
            and customers_b.category = pair_customers.category_b
),

final as (
    select
        category_pairs.category_a,
        category_pairs.category_b,
        category_pairs.customers_a,
        category_pairs.customers_b,
        category_pairs.customers_both,
        purchaser_count.purchasers,
        cast(category_pairs.customers_both as {{ type_double() }}) / category_pairs.customers_a as confidence,
        -- confidence / (customers_b / purchasers) as one division, so equal ratios compare equal.
        cast(category_pairs.customers_both * purchaser_count.purchasers as {{ type_double() }})
        / (category_pairs.customers_a * category_pairs.customers_b) as lift
    from category_pairs
    cross join purchaser_count
    where category_pairs.customers_both >= {{ var('affinity_min_customers') }}
)

select * from final
