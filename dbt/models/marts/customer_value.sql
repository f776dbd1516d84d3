{#-
    Customer value as of D: the model's predictions (stg_value__customer_value_scores, made by
    the Dagster `value` asset) with the costs of serving and the value of recommending.
-#}
with

customers as (
    select * from {{ ref('customer_360') }}
),

scores as (
    select * from {{ ref('stg_value__customer_value_scores') }}
),

valued as (
    select
        customers.customer_id,
        scores.fit_id,
        scores.probability_alive,
        scores.expected_purchases_365d,
        scores.expected_margin_per_purchase,
        scores.expected_margin_365d,
        customers.first_purchase_date is not null as is_purchaser,
        case
            when scores.customer_id is not null
                then cast(
                        customers.tickets_12m * {{ var('clv_cost_per_ticket') }} * 365.0 / {{ var('window_days') }}
                        as {{ type_double() }}
                    )
        end as expected_service_cost_365d,
        case
            when scores.customer_id is not null and customers.nps_group = 'promoter'
                then cast({{ var('clv_referral_value_per_promoter') }} as {{ type_double() }})
            when scores.customer_id is not null then cast(0 as {{ type_double() }})
        end as referral_value_365d
    from customers
    left join scores
        on customers.customer_id = scores.customer_id
),

totalled as (
    select
        valued.*,
        valued.expected_margin_365d - valued.expected_service_cost_365d + valued.referral_value_365d
            as customer_value_365d
    from valued
),

ranked as (
    select
        totalled.customer_id,
        ntile(5) over (order by totalled.customer_value_365d desc, totalled.customer_id asc) as value_quintile
    from totalled
    where totalled.customer_value_365d is not null
),

final as (
    select
        totalled.customer_id,
        totalled.probability_alive,
        totalled.expected_purchases_365d,
        totalled.expected_margin_per_purchase,
        totalled.expected_margin_365d,
        totalled.expected_service_cost_365d,
        totalled.referral_value_365d,
        totalled.customer_value_365d,
        totalled.fit_id,
        case
            when not totalled.is_purchaser then 'prospect'
            when ranked.value_quintile = 1 then 'top'
            when ranked.value_quintile = 5 then 'bottom'
            when ranked.value_quintile is not null then 'middle'
        end as value_segment
    from totalled
    left join ranked
        on totalled.customer_id = ranked.customer_id
)

select * from final
