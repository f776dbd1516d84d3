{#-
    One row per calendar year × tier (standard, gold) plus tier `all`, from the first purchase year
    to D's year. A customer's tier in a year is their tier at the end of the year (at D for D's year).
-#}
with

purchases as (
    select * from {{ ref('int_orders_filtered_to_purchases') }}
),

tier_spells as (
    select * from {{ ref('int_customer_tiers_historized') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

first_purchase_year as (
    select {{ year_start('min(purchases.purchase_date)') }} as year_start_date
    from purchases
),

years as (
    select
        cast({{ dbt.dateadd('year', 'series.step', 'first_purchase_year.year_start_date') }} as date)
            as year_start_date
    from first_purchase_year
    cross join as_of
    cross join {{ number_series(
        dbt.datediff('first_purchase_year.year_start_date', 'as_of.as_of_date', 'year')
    ) }}
    where first_purchase_year.year_start_date is not null
),

year_bounds as (
    select
        years.year_start_date,
        {{ year_start('as_of.as_of_date') }} = years.year_start_date as is_partial,
        least(
            cast({{ dbt.dateadd('day', -1, dbt.dateadd('year', 1, 'years.year_start_date')) }} as date),
            as_of.as_of_date
        ) as tier_as_of_date
    from years
    cross join as_of
),

purchasers_by_year as (
    select
        purchases.customer_id,
        {{ year_start('purchases.purchase_date') }} as year_start_date,
        count(*) as purchases_in_year
    from purchases
    group by
        purchases.customer_id,
        {{ year_start('purchases.purchase_date') }}
),

purchasers as (
    select distinct purchasers_by_year.customer_id
    from purchasers_by_year
),

customer_years as (
    select
        purchasers.customer_id,
        year_bounds.year_start_date,
        year_bounds.tier_as_of_date
    from purchasers
    cross join year_bounds
),

customer_year_activity as (
    select
        customer_years.customer_id,
        customer_years.year_start_date,
        tier_spells.tier,
        coalesce(this_year.purchases_in_year, 0) >= 1 as is_active,
        coalesce(this_year.purchases_in_year, 0) >= 3 as is_3plus,
        coalesce(prior_year.purchases_in_year, 0) >= 1 as was_active_prior_year
    from customer_years
    left join tier_spells
        on
            customer_years.customer_id = tier_spells.customer_id
            and {{ tier_spell_covers('tier_spells', 'customer_years.tier_as_of_date') }}
    left join purchasers_by_year as this_year
        on
            customer_years.customer_id = this_year.customer_id
            and customer_years.year_start_date = this_year.year_start_date
    left join purchasers_by_year as prior_year
        on
            customer_years.customer_id = prior_year.customer_id
            and cast({{ dbt.dateadd('year', -1, 'customer_years.year_start_date') }} as date)
            = prior_year.year_start_date
),

customer_year_groups as (
    {#- Each customer-year counts in its tier's row and in the `all` row. -#}
    select
        customer_year_activity.year_start_date,
        customer_year_activity.tier,
        customer_year_activity.is_active,
        customer_year_activity.is_3plus,
        customer_year_activity.was_active_prior_year
    from customer_year_activity
    where customer_year_activity.tier is not null

    union all

    select
        customer_year_activity.year_start_date,
        'all' as tier,
        customer_year_activity.is_active,
        customer_year_activity.is_3plus,
        customer_year_activity.was_active_prior_year
    from customer_year_activity
),

tiers as (
    {%- for tier in tiers_by_rank() + ['all'] %}
        select '{{ tier }}' as tier
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

counts as (
    select
        customer_year_groups.year_start_date,
        customer_year_groups.tier,
        sum(case when customer_year_groups.is_active then 1 else 0 end) as active_customers,
        sum(case when customer_year_groups.is_3plus then 1 else 0 end) as customers_3plus,
        sum(case when customer_year_groups.was_active_prior_year then 1 else 0 end) as prior_year_active,
        sum(
            case
                when customer_year_groups.was_active_prior_year and customer_year_groups.is_active then 1
                else 0
            end
        ) as retained_customers
    from customer_year_groups
    group by customer_year_groups.year_start_date, customer_year_groups.tier
),

final as (
    select
        cast(extract(year from year_bounds.year_start_date) as {{ dbt.type_int() }}) as year,
        tiers.tier,
        year_bounds.is_partial,
        year_bounds.tier_as_of_date,
        cast(coalesce(counts.active_customers, 0) as {{ dbt.type_bigint() }}) as active_customers,
        cast(coalesce(counts.customers_3plus, 0) as {{ dbt.type_bigint() }}) as customers_3plus,
        cast(
            counts.customers_3plus * 1.0 / nullif(counts.active_customers, 0) as {{ type_double() }}
        ) as repeat_rate_3plus,
        cast(coalesce(counts.prior_year_active, 0) as {{ dbt.type_bigint() }}) as prior_year_active,
        cast(coalesce(counts.retained_customers, 0) as {{ dbt.type_bigint() }}) as retained_customers,
        cast(
            counts.retained_customers * 1.0 / nullif(counts.prior_year_active, 0) as {{ type_double() }}
        ) as retention_rate
    from year_bounds
    cross join tiers
    left join counts
        on
            year_bounds.year_start_date = counts.year_start_date
            and tiers.tier = counts.tier
)

select * from final
