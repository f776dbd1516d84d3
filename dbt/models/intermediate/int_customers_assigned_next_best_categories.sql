{#-
    next_best_category (metrics.md): for a purchaser, among categories not bought, the B with the
    highest lift from any bought category A (ties: higher customers_both, then name); for a
    non-purchaser, the category with the most purchasers (ties: name).
-#}
with

customers as (
    select * from {{ ref('stg_sales__customers') }}
),

purchase_summary as (
    select * from {{ ref('int_purchases_aggregated_to_customers') }}
),

customer_categories as (
    select * from {{ ref('int_purchase_lines_aggregated_to_customer_categories') }}
),

category_pairs as (
    select * from {{ ref('int_category_pairs_scored_for_affinity') }}
),

unbought_candidates as (
    select
        customer_categories.customer_id,
        category_pairs.category_b as category,
        category_pairs.lift,
        category_pairs.customers_both
    from customer_categories
    inner join category_pairs
        on customer_categories.category = category_pairs.category_a
    left join customer_categories as bought
        on
            customer_categories.customer_id = bought.customer_id
            and category_pairs.category_b = bought.category
    where bought.customer_id is null
),

best_candidates as (
    {{ keep_first_row('unbought_candidates', 'customer_id', 'lift desc, customers_both desc, category') }}
),

category_purchasers as (
    select
        customer_categories.category,
        count(*) as purchasers
    from customer_categories
    group by customer_categories.category
),

ranked_categories as (
    select
        category_purchasers.category,
        row_number() over (order by category_purchasers.purchasers desc, category_purchasers.category asc)
            as popularity_rank
    from category_purchasers
),

final as (
    select
        customers.customer_id,
        coalesce(best_candidates.category, most_purchased_category.category) as next_best_category
    from customers
    left join purchase_summary
        on customers.customer_id = purchase_summary.customer_id
    left join best_candidates
        on customers.customer_id = best_candidates.customer_id
    -- Only non-purchasers take the category with the most purchasers.
    left join ranked_categories as most_purchased_category
        on
            purchase_summary.customer_id is null
            and most_purchased_category.popularity_rank = 1
)

select * from final
