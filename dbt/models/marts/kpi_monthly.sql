{#-
    One row per calendar month from the earliest month with any accepted order, ticket or response
    up to D's month. Purchase figures count known customers' purchases (≤ D); the service and
    satisfaction figures count every accepted ticket and response dated ≤ D, matched or not.
    Every ratio carries its parts; a month without activity is a row of zeros with null ratios.
-#}
with

orders as (
    select * from {{ ref('stg_sales__orders') }}
),

tickets as (
    select * from {{ ref('stg_service__tickets') }}
),

responses as (
    select * from {{ ref('stg_survey__responses') }}
),

purchases as (
    select * from {{ ref('int_orders_filtered_to_purchases') }}
),

purchase_lines as (
    select * from {{ ref('int_order_lines_filtered_to_purchases') }}
),

anchors as (
    select * from {{ ref('int_customers_anchored_to_categories') }}
),

churn_events as (
    select * from {{ ref('int_customer_churn_events') }}
),

tier_spells as (
    select * from {{ ref('int_customer_tiers_historized') }}
),

scored_responses as (
    select * from {{ ref('int_responses_scored_for_share_of_wallet') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

source_dates as (
    select min(orders.ordered_date) as first_date from orders
    union all
    select min(tickets.created_date) as first_date from tickets
    union all
    select min(responses.submitted_date) as first_date from responses
),

month_span as (
    select
        {{ month_start('min(source_dates.first_date)') }} as first_month,
        {{ dbt.datediff('min(source_dates.first_date)', 'max(as_of.as_of_date)', 'month') }} as months_to_as_of
    from source_dates
    cross join as_of
),

months as (
    select
        cast({{ dbt.dateadd('month', 'series.step', 'month_span.first_month') }} as date) as month_start_date
    from month_span
    cross join {{ number_series('month_span.months_to_as_of') }}
    where month_span.first_month is not null
),

first_purchases as (
    select
        {{ month_start('min(purchases.purchase_date)') }} as month_start_date,
        purchases.customer_id
    from purchases
    group by purchases.customer_id
),

new_customers_by_month as (
    select
        first_purchases.month_start_date,
        count(*) as new_customers
    from first_purchases
    group by first_purchases.month_start_date
),

purchases_by_month as (
    select
        {{ month_start('purchases.purchase_date') }} as month_start_date,
        count(distinct purchases.customer_id) as active_customers,
        sum(purchases.order_revenue) as revenue,
        sum(purchases.order_margin) as gross_margin,
        sum(purchases.order_revenue_without_cost) as revenue_without_cost
    from purchases
    group by {{ month_start('purchases.purchase_date') }}
),

cross_sell_by_month as (
    {#- Lines outside the buyer's anchor category; lines without a category are never cross-sell. -#}
    select
        {{ month_start('purchase_lines.purchase_date') }} as month_start_date,
        sum(purchase_lines.line_revenue) as cross_sell_revenue
    from purchase_lines
    inner join anchors
        on purchase_lines.customer_id = anchors.customer_id
    where purchase_lines.category <> anchors.anchor_category
    group by {{ month_start('purchase_lines.purchase_date') }}
),

churn_events_by_month as (
    select
        {{ month_start('churn_events.event_date') }} as month_start_date,
        count(distinct case when churn_events.event_type = 'churn' then churn_events.customer_id end)
            as churned_customers,
        count(distinct case when churn_events.event_type = 'reactivation' then churn_events.customer_id end)
            as reactivated_customers
    from churn_events
    group by {{ month_start('churn_events.event_date') }}
),

upgrades_by_month as (
    select
        {{ month_start('tier_spells.valid_from_date') }} as month_start_date,
        count(distinct tier_spells.customer_id) as upgraded_customers
    from tier_spells
    cross join as_of
    where tier_spells.is_upgrade and tier_spells.valid_from_date <= as_of.as_of_date
    group by {{ month_start('tier_spells.valid_from_date') }}
),

responses_by_month as (
    select
        {{ month_start('responses.submitted_date') }} as month_start_date,
        sum(case when responses.nps >= 9 then 1 else 0 end) as nps_promoters,
        sum(case when responses.nps <= 6 then 1 else 0 end) as nps_detractors,
        count(responses.nps) as nps_responses,
        sum(case when responses.csat >= 4 then 1 else 0 end) as csat_top2_responses,
        sum(case when responses.csat = 5 then 1 else 0 end) as csat_5_responses,
        count(responses.csat) as csat_responses
    from responses
    cross join as_of
    where responses.submitted_date <= as_of.as_of_date
    group by {{ month_start('responses.submitted_date') }}
),

share_of_wallet_by_month as (
    select
        {{ month_start('scored_responses.submitted_date') }} as month_start_date,
        count(*) as share_of_wallet_responses,
        -- summed as an exact decimal: a sum of doubles depends on the order DuckDB adds them in
        cast(sum(cast(scored_responses.share_of_wallet as decimal(38, 18))) as {{ type_double() }})
            as share_of_wallet_sum
    from scored_responses
    group by {{ month_start('scored_responses.submitted_date') }}
),

tickets_by_month as (
    select
        {{ month_start('tickets.created_date') }} as month_start_date,
        sum(case when tickets.ticket_type = 'complaint' then 1 else 0 end) as complaints,
        {{ median(hours_between('tickets.created_at', 'tickets.first_response_at')) }}
            as median_first_response_hours
    from tickets
    cross join as_of
    where tickets.created_date <= as_of.as_of_date
    group by {{ month_start('tickets.created_date') }}
),

final as (
    select
        months.month_start_date as month,
        months.month_start_date = {{ month_start('as_of.as_of_date') }} as is_partial,
        cast(coalesce(new_customers_by_month.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
        cast(coalesce(purchases_by_month.active_customers, 0) as {{ dbt.type_bigint() }}) as active_customers,
        cast(coalesce(churn_events_by_month.churned_customers, 0) as {{ dbt.type_bigint() }})
            as churned_customers,
        cast(coalesce(churn_events_by_month.reactivated_customers, 0) as {{ dbt.type_bigint() }})
            as reactivated_customers,
        cast(coalesce(upgrades_by_month.upgraded_customers, 0) as {{ dbt.type_bigint() }}) as upgraded_customers,
        cast(coalesce(purchases_by_month.revenue, 0) as {{ type_double() }}) as revenue,
        cast(coalesce(purchases_by_month.gross_margin, 0) as {{ type_double() }}) as gross_margin,
        cast(coalesce(purchases_by_month.revenue_without_cost, 0) as {{ type_double() }}) as revenue_without_cost,
        cast(
            purchases_by_month.gross_margin / nullif(purchases_by_month.active_customers, 0)
            as {{ type_double() }}
        ) as avg_margin_per_active_customer,
        cast(coalesce(cross_sell_by_month.cross_sell_revenue, 0) as {{ type_double() }}) as cross_sell_revenue,
        cast(
            coalesce(cross_sell_by_month.cross_sell_revenue, 0) / nullif(purchases_by_month.revenue, 0)
            as {{ type_double() }}
        ) as cross_sell_ratio,
        cast(coalesce(responses_by_month.nps_promoters, 0) as {{ dbt.type_bigint() }}) as nps_promoters,
        cast(coalesce(responses_by_month.nps_detractors, 0) as {{ dbt.type_bigint() }}) as nps_detractors,
        cast(coalesce(responses_by_month.nps_responses, 0) as {{ dbt.type_bigint() }}) as nps_responses,
        cast(
            100.0 * (responses_by_month.nps_promoters - responses_by_month.nps_detractors)
            / nullif(responses_by_month.nps_responses, 0) as {{ type_double() }}
        ) as nps,
        cast(coalesce(responses_by_month.csat_top2_responses, 0) as {{ dbt.type_bigint() }})
            as csat_top2_responses,
        cast(coalesce(responses_by_month.csat_5_responses, 0) as {{ dbt.type_bigint() }}) as csat_5_responses,
        cast(coalesce(responses_by_month.csat_responses, 0) as {{ dbt.type_bigint() }}) as csat_responses,
        cast(
            100.0 * responses_by_month.csat_top2_responses / nullif(responses_by_month.csat_responses, 0)
            as {{ type_double() }}
        ) as csat_top2_pct,
        cast(
            100.0 * responses_by_month.csat_5_responses / nullif(responses_by_month.csat_responses, 0)
            as {{ type_double() }}
        ) as completely_satisfied_pct,
        cast(coalesce(share_of_wallet_by_month.share_of_wallet_responses, 0) as {{ dbt.type_bigint() }})
            as share_of_wallet_responses,
        cast(coalesce(share_of_wallet_by_month.share_of_wallet_sum, 0) as {{ type_double() }})
            as share_of_wallet_sum,
        cast(
            share_of_wallet_by_month.share_of_wallet_sum
            / nullif(share_of_wallet_by_month.share_of_wallet_responses, 0) as {{ type_double() }}
        ) as avg_share_of_wallet,
        cast(coalesce(tickets_by_month.complaints, 0) as {{ dbt.type_bigint() }}) as complaints,
        cast(tickets_by_month.median_first_response_hours as {{ type_double() }}) as median_first_response_hours
    from months
    cross join as_of
    left join new_customers_by_month
        on months.month_start_date = new_customers_by_month.month_start_date
    left join purchases_by_month
        on months.month_start_date = purchases_by_month.month_start_date
    left join cross_sell_by_month
        on months.month_start_date = cross_sell_by_month.month_start_date
    left join churn_events_by_month
        on months.month_start_date = churn_events_by_month.month_start_date
    left join upgrades_by_month
        on months.month_start_date = upgrades_by_month.month_start_date
    left join responses_by_month
        on months.month_start_date = responses_by_month.month_start_date
    left join share_of_wallet_by_month
        on months.month_start_date = share_of_wallet_by_month.month_start_date
    left join tickets_by_month
        on months.month_start_date = tickets_by_month.month_start_date
)

select * from final
