{#-
    Service figures per customer from the tickets matched to them (matched_customer_id) and created
    on or before D; "12m" figures count tickets created in the 365 days ending on D.
-#}
with

tickets as (
    select * from {{ ref('int_tickets_matched_to_customers') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

customer_tickets as (
    select
        tickets.matched_customer_id as customer_id,
        tickets.ticket_type,
        tickets.status,
        tickets.created_date >= as_of.window_start_date as is_in_window,
        {{ hours_between('tickets.created_at', 'tickets.first_response_at') }} as first_response_hours,
        {{ hours_between('tickets.created_at', 'tickets.solved_at') }} as resolution_hours
    from tickets
    cross join as_of
    where
        tickets.matched_customer_id is not null
        and tickets.created_date <= as_of.as_of_date
),

final as (
    select
        customer_tickets.customer_id,
        sum(case when customer_tickets.is_in_window then 1 else 0 end) as tickets_12m,
        sum(
            case when customer_tickets.is_in_window and customer_tickets.ticket_type = 'complaint' then 1 else 0 end
        ) as complaints_12m,
        sum(case when customer_tickets.status in ('new', 'open', 'pending') then 1 else 0 end) as open_tickets,
        cast(
            {{ median('case when customer_tickets.is_in_window then customer_tickets.first_response_hours end') }}
            as {{ type_double() }}
        ) as median_first_response_hours_12m,
        cast(
            {{ median('case when customer_tickets.is_in_window then customer_tickets.resolution_hours end') }}
            as {{ type_double() }}
        ) as median_resolution_hours_12m
    from customer_tickets
    group by customer_tickets.customer_id
)

select * from final
