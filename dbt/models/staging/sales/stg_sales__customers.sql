with

customer_versions as (
    select * from {{ ref('stg_sales__customer_versions') }}
),

final as (
    select
        customer_versions.customer_id,
        customer_versions.customer_name,
        customer_versions.email,
        customer_versions.phone,
        customer_versions.tier,
        customer_versions.region,
        customer_versions.acquisition_channel,
        customer_versions.sales_rep_id,
        customer_versions.created_at,
        customer_versions.updated_at,
        lower(customer_versions.email) as email_normalized
    from customer_versions
    where customer_versions.version_recency_rank = 1
)

select * from final
