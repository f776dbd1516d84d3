{#-
    Satisfaction per customer from the survey responses matched to them (matched_customer_id) and
    submitted on or before D. "Latest" orders by submitted_at, then response_id: on a tie the
    greater response_id is the later one.
-#}
{%- set latest_first = 'submitted_at desc, response_id desc' %}
with

responses as (
    select * from {{ ref('int_responses_matched_to_customers') }}
),

share_of_wallet_responses as (
    select * from {{ ref('int_responses_scored_for_share_of_wallet') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

customer_responses as (
    select responses.*
    from responses
    cross join as_of
    where
        responses.matched_customer_id is not null
        and responses.submitted_date <= as_of.as_of_date
),

nps_responses as (
    select customer_responses.*
    from customer_responses
    where customer_responses.nps is not null
),

latest_nps as (
    {{ keep_first_row('nps_responses', 'matched_customer_id', latest_first) }}
),

csat_responses as (
    select customer_responses.*
    from customer_responses
    where customer_responses.csat is not null
),

latest_csat as (
    {{ keep_first_row('csat_responses', 'matched_customer_id', latest_first) }}
),

share_of_wallet_responses_12m as (
    select share_of_wallet_responses.*
    from share_of_wallet_responses
    cross join as_of
    where share_of_wallet_responses.submitted_date >= as_of.window_start_date
),

latest_share_of_wallet as (
    {{ keep_first_row('share_of_wallet_responses_12m', 'customer_id', latest_first) }}
),

response_summary as (
    select
        customer_responses.matched_customer_id as customer_id,
        {%- for dimension in ['reliability', 'assurance', 'tangibles', 'empathy', 'responsiveness'] %}
            avg(cast(customer_responses.{{ dimension }} as {{ type_double() }})) as servqual_{{ dimension }},
        {%- endfor %}
        count(*) as surveys_count
    from customer_responses
    group by customer_responses.matched_customer_id
),

final as (
    select
        response_summary.customer_id,
        response_summary.surveys_count,
        latest_nps.nps as latest_nps,
        latest_csat.csat as latest_csat,
        response_summary.servqual_reliability,
        response_summary.servqual_assurance,
        response_summary.servqual_tangibles,
        response_summary.servqual_empathy,
        response_summary.servqual_responsiveness,
        latest_share_of_wallet.response_id as share_of_wallet_response_id,
        latest_share_of_wallet.share_of_wallet,
        latest_share_of_wallet.is_share_of_wallet_capped
    from response_summary
    left join latest_nps
        on response_summary.customer_id = latest_nps.matched_customer_id
    left join latest_csat
        on response_summary.customer_id = latest_csat.matched_customer_id
    left join latest_share_of_wallet
        on response_summary.customer_id = latest_share_of_wallet.customer_id
)

select * from final
