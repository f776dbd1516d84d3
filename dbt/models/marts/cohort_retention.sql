{#-
    One row per cohort month (month of a customer's first purchase) × months since first purchase,
    0 up to D's month; months without a cohort member's purchase are rows with zeros.
-#}
with

purchases as (
    select * from {{ ref('int_orders_filtered_to_purchases') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

purchase_months as (
    select distinct
        purchases.customer_id,
        {{ month_start('purchases.purchase_date') }} as purchase_month
    from purchases
),

cohort_members as (
    select
        purchase_months.customer_id,
        min(purchase_months.purchase_month) as cohort_month
    from purchase_months
    group by purchase_months.customer_id
),

cohorts as (
    select
        cohort_members.cohort_month,
        count(*) as cohort_size
    from cohort_members
    group by cohort_members.cohort_month
),

month_span as (
    select
        {{ dbt.datediff('min(cohorts.cohort_month)', 'max(as_of.as_of_date)', 'month') }} as months_to_as_of
    from cohorts
    cross join as_of
),

cohort_months as (
    select
        cohorts.cohort_month,
        cohorts.cohort_size,
        series.step as months_since_first,
        cast({{ dbt.dateadd('month', 'series.step', 'cohorts.cohort_month') }} as date) as activity_month
    from cohorts
    cross join as_of
    cross join month_span
    cross join {{ number_series('month_span.months_to_as_of') }}
    where
        {{ dbt.dateadd('month', 'series.step', 'cohorts.cohort_month') }}
        <= {{ month_start('as_of.as_of_date') }}
),

active_members as (
    select
        cohort_members.cohort_month,
        purchase_months.purchase_month,
        count(*) as active_customers
    from cohort_members
    inner join purchase_months
        on cohort_members.customer_id = purchase_months.customer_id
    group by cohort_members.cohort_month, purchase_months.purchase_month
),

final as (
    select
        cohort_months.cohort_month,
        cast(cohort_months.months_since_first as {{ dbt.type_int() }}) as months_since_first,
        cohort_months.activity_month,
        cast(cohort_months.cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(coalesce(active_members.active_customers, 0) as {{ dbt.type_bigint() }}) as active_customers,
        cast(
            coalesce(active_members.active_customers, 0) * 1.0 / cohort_months.cohort_size as {{ type_double() }}
        ) as retention_rate
    from cohort_months
    left join active_members
        on
            cohort_months.cohort_month = active_members.cohort_month
            and cohort_months.activity_month = active_members.purchase_month
)

select * from final
