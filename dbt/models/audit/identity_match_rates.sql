with

tickets as (
    select * from {{ ref('int_tickets_matched_to_customers') }}
),

responses as (
    select * from {{ ref('int_responses_matched_to_customers') }}
),

match_outcomes as (
    select
        'tickets' as source_entity,
        tickets.match_method,
        tickets.unmatched_reason
    from tickets

    union all

    select
        'responses' as source_entity,
        responses.match_method,
        responses.unmatched_reason
    from responses
),

final as (
    select
        match_outcomes.source_entity,
        count(*) as records,
        count(match_outcomes.match_method) as matched_records,
        cast(sum(case when match_outcomes.match_method = 'customer_id' then 1 else 0 end) as {{ dbt.type_bigint() }}) as matched_by_customer_id,
        cast(sum(case when match_outcomes.match_method = 'email' then 1 else 0 end) as {{ dbt.type_bigint() }}) as matched_by_email,
        cast(sum(case when match_outcomes.match_method = 'phone' then 1 else 0 end) as {{ dbt.type_bigint() }}) as matched_by_phone,
        cast(sum(case when match_outcomes.unmatched_reason = 'no_key' then 1 else 0 end) as {{ dbt.type_bigint() }}) as unmatched_no_key,
        cast(sum(case when match_outcomes.unmatched_reason = 'ambiguous' then 1 else 0 end) as {{ dbt.type_bigint() }}) as unmatched_ambiguous,
        cast(sum(case when match_outcomes.unmatched_reason = 'unknown' then 1 else 0 end) as {{ dbt.type_bigint() }}) as unmatched_unknown,
        cast(count(match_outcomes.match_method) as {{ type_double() }}) / count(*) as match_rate
    from match_outcomes
    group by match_outcomes.source_entity
)

select * from final
