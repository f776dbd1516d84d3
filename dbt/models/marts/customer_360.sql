with

customers as (
    select * from {{ ref('stg_sales__customers') }}
),

purchase_summary as (
    select * from {{ ref('int_purchases_aggregated_to_customers') }}
),

purchase_rhythm as (
    select * from {{ ref('int_purchase_dates_aggregated_to_customers') }}
),

anchors as (
    select * from {{ ref('int_customers_anchored_to_categories') }}
),

customer_categories as (
    select * from {{ ref('int_purchase_lines_aggregated_to_customer_categories') }}
),

next_best_categories as (
    select * from {{ ref('int_customers_assigned_next_best_categories') }}
),

response_summary as (
    select * from {{ ref('int_responses_aggregated_to_customers') }}
),

ticket_summary as (
    select * from {{ ref('int_tickets_aggregated_to_customers') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

category_summary as (
    select
        customer_categories.customer_id,
        count(*) as categories_purchased,
        -- Lines outside the anchor; lines without a category are never cross-sell.
        sum(
            case
                when customer_categories.category != anchors.anchor_category then customer_categories.revenue_lifetime
                else 0
            end
        ) as cross_sell_revenue_lifetime
    from customer_categories
    left join anchors
        on customer_categories.customer_id = anchors.customer_id
    group by customer_categories.customer_id
),

purchaser_ranks as (
    select
        purchase_summary.customer_id,
        ntile(5) over (order by purchase_summary.last_purchase_date, purchase_summary.customer_id)
            as rfm_recency,
        ntile(5) over (order by purchase_summary.purchases_12m, purchase_summary.customer_id)
            as rfm_frequency,
        ntile(5) over (order by purchase_summary.net_revenue_12m, purchase_summary.customer_id)
            as rfm_monetary,
        row_number() over (order by purchase_summary.net_revenue_12m desc, purchase_summary.customer_id asc)
            as revenue_12m_rank,
        count(*) over () as purchasers
    from purchase_summary
),

purchase_state as (
    select
        purchase_summary.customer_id,
        {{ dbt.datediff('purchase_summary.last_purchase_date', 'as_of.as_of_date', 'day') }}
            as days_since_last_purchase,
        cast(
            {{ dbt.dateadd(
                'day',
                'cast(' ~ round_half_away_from_zero('purchase_rhythm.median_days_between_purchases')
                ~ ' as ' ~ dbt.type_int() ~ ')',
                'purchase_summary.last_purchase_date'
            ) }} as date
        ) as expected_next_purchase_date
    from purchase_summary
    cross join as_of
    left join purchase_rhythm
        on purchase_summary.customer_id = purchase_rhythm.customer_id
),

churn_risks as (
    select
        purchase_state.customer_id,
        case
            when purchase_state.days_since_last_purchase >= {{ churn_after_days() }} then 'churned'
            when
                purchase_state.days_since_last_purchase
                > {{ var('overdue_factor') }} * purchase_rhythm.median_days_between_purchases
                then 'overdue'
            else 'ok'
        end as churn_risk
    from purchase_state
    left join purchase_rhythm
        on purchase_state.customer_id = purchase_rhythm.customer_id
),

final as (
    select
        customers.customer_id,
        customers.customer_name as name,
        customers.email,
        customers.phone,
        customers.tier,
        customers.region,
        customers.acquisition_channel,
        customers.sales_rep_id,
        customers.created_at,
        purchase_summary.first_purchase_date,
        purchase_summary.last_purchase_date,
        cast(coalesce(purchase_summary.purchases_lifetime, 0) as {{ dbt.type_bigint() }})
            as purchases_lifetime,
        cast(coalesce(purchase_summary.purchases_12m, 0) as {{ dbt.type_bigint() }}) as purchases_12m,
        cast(coalesce(purchase_summary.net_revenue_lifetime, 0) as {{ type_double() }})
            as net_revenue_lifetime,
        cast(coalesce(purchase_summary.net_revenue_12m, 0) as {{ type_double() }}) as net_revenue_12m,
        cast(coalesce(purchase_summary.gross_margin_lifetime, 0) as {{ type_double() }})
            as gross_margin_lifetime,
        cast(coalesce(purchase_summary.revenue_without_cost_lifetime, 0) as {{ type_double() }})
            as revenue_without_cost_lifetime,
        cast(
            purchase_summary.net_revenue_lifetime / nullif(purchase_summary.purchases_lifetime, 0)
            as {{ type_double() }}
        ) as avg_order_value,
        cast(purchase_state.days_since_last_purchase as {{ dbt.type_int() }}) as days_since_last_purchase,
        purchase_rhythm.median_days_between_purchases,
        purchase_state.expected_next_purchase_date,
        churn_risks.churn_risk,
        case
            when purchase_summary.customer_id is null then 'prospect'
            when churn_risks.churn_risk = 'churned' then 'churned'
            when churn_risks.churn_risk = 'overdue' then 'declining'
            when purchase_summary.purchases_lifetime >= 3 then 'mature'
            else 'growth'
        end as lifecycle_stage,
        cast(coalesce(category_summary.categories_purchased, 0) as {{ dbt.type_bigint() }})
            as categories_purchased,
        anchors.anchor_category,
        cast(coalesce(category_summary.cross_sell_revenue_lifetime, 0) as {{ type_double() }})
            as cross_sell_revenue_lifetime,
        cast(
            coalesce(category_summary.cross_sell_revenue_lifetime, 0)
            / nullif(purchase_summary.net_revenue_lifetime, 0)
            as {{ type_double() }}
        ) as cross_sell_ratio,
        next_best_categories.next_best_category,
        response_summary.share_of_wallet,
        response_summary.is_share_of_wallet_capped as share_of_wallet_capped,
        cast(response_summary.latest_nps as {{ dbt.type_int() }}) as latest_nps,
        cast(response_summary.latest_csat as {{ dbt.type_int() }}) as latest_csat,
        case
            when response_summary.latest_nps >= 9 then 'promoter'
            when response_summary.latest_nps >= 7 then 'passive'
            when response_summary.latest_nps >= 0 then 'detractor'
        end as nps_group,
        response_summary.latest_csat = 5 as is_completely_satisfied,
        response_summary.servqual_reliability,
        response_summary.servqual_assurance,
        response_summary.servqual_tangibles,
        response_summary.servqual_empathy,
        response_summary.servqual_responsiveness,
        cast(coalesce(response_summary.surveys_count, 0) as {{ dbt.type_bigint() }}) as surveys_count,
        cast(coalesce(ticket_summary.tickets_12m, 0) as {{ dbt.type_bigint() }}) as tickets_12m,
        cast(coalesce(ticket_summary.complaints_12m, 0) as {{ dbt.type_bigint() }}) as complaints_12m,
        cast(coalesce(ticket_summary.open_tickets, 0) as {{ dbt.type_bigint() }}) as open_tickets,
        ticket_summary.median_first_response_hours_12m,
        ticket_summary.median_resolution_hours_12m,
        cast(purchaser_ranks.rfm_recency as {{ dbt.type_int() }}) as rfm_recency,
        cast(purchaser_ranks.rfm_frequency as {{ dbt.type_int() }}) as rfm_frequency,
        cast(purchaser_ranks.rfm_monetary as {{ dbt.type_int() }}) as rfm_monetary,
        -- rank <= ceil(0.2 x purchasers); non-purchasers are never in the top 20 %.
        coalesce(purchaser_ranks.revenue_12m_rank <= ceil(purchaser_ranks.purchasers / 5.0), false)
            as is_top_20pct
    from customers
    left join purchase_summary
        on customers.customer_id = purchase_summary.customer_id
    left join purchase_state
        on customers.customer_id = purchase_state.customer_id
    left join purchase_rhythm
        on customers.customer_id = purchase_rhythm.customer_id
    left join churn_risks
        on customers.customer_id = churn_risks.customer_id
    left join anchors
        on customers.customer_id = anchors.customer_id
    left join category_summary
        on customers.customer_id = category_summary.customer_id
    left join next_best_categories
        on customers.customer_id = next_best_categories.customer_id
    left join response_summary
        on customers.customer_id = response_summary.customer_id
    left join ticket_summary
        on customers.customer_id = ticket_summary.customer_id
    left join purchaser_ranks
        on customers.customer_id = purchaser_ranks.customer_id
)

select * from final
