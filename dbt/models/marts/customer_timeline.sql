{#-
    Every event of every customer known to the ERP, in order: orders (every status, latest state),
    matched tickets and matched survey responses. Unmatched tickets and responses are not here.
-#}
with

customers as (
    select * from {{ ref('stg_sales__customers') }}
),

orders as (
    select * from {{ ref('stg_sales__orders') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_priced') }}
),

tickets as (
    select * from {{ ref('int_tickets_matched_to_customers') }}
),

responses as (
    select * from {{ ref('int_responses_matched_to_customers') }}
),

order_amounts as (
    select
        order_lines.order_id,
        sum(order_lines.line_revenue) as order_amount
    from order_lines
    group by order_lines.order_id
),

order_events as (
    select
        orders.customer_id,
        orders.ordered_at as event_at,
        orders.ordered_date as event_date,
        'order' as event_type,
        orders.order_id as event_id,
        orders.status || ', '
        || cast(cast(coalesce(order_amounts.order_amount, 0) as decimal(18, 2)) as {{ dbt.type_string() }})
            as detail,
        orders.status as order_status,
        cast(coalesce(order_amounts.order_amount, 0) as {{ dbt.type_numeric() }}) as order_amount,
        cast(null as {{ dbt.type_string() }}) as ticket_type,
        cast(null as {{ dbt.type_string() }}) as ticket_status,
        cast(null as {{ dbt.type_int() }}) as nps,
        cast(null as {{ dbt.type_int() }}) as csat
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
    left join order_amounts
        on orders.order_id = order_amounts.order_id
),

ticket_events as (
    select
        tickets.matched_customer_id as customer_id,
        tickets.created_at as event_at,
        tickets.created_date as event_date,
        'ticket' as event_type,
        tickets.ticket_id as event_id,
        coalesce(tickets.ticket_type, 'no type') || ', ' || tickets.status as detail,
        cast(null as {{ dbt.type_string() }}) as order_status,
        cast(null as {{ dbt.type_numeric() }}) as order_amount,
        tickets.ticket_type,
        tickets.status as ticket_status,
        cast(null as {{ dbt.type_int() }}) as nps,
        cast(null as {{ dbt.type_int() }}) as csat
    from tickets
    where tickets.matched_customer_id is not null
),

survey_events as (
    select
        responses.matched_customer_id as customer_id,
        responses.submitted_at as event_at,
        responses.submitted_date as event_date,
        'survey' as event_type,
        responses.response_id as event_id,
        'nps ' || coalesce(cast(responses.nps as {{ dbt.type_string() }}), 'none')
        || ', csat ' || coalesce(cast(responses.csat as {{ dbt.type_string() }}), 'none') as detail,
        cast(null as {{ dbt.type_string() }}) as order_status,
        cast(null as {{ dbt.type_numeric() }}) as order_amount,
        cast(null as {{ dbt.type_string() }}) as ticket_type,
        cast(null as {{ dbt.type_string() }}) as ticket_status,
        responses.nps,
        responses.csat
    from responses
    where responses.matched_customer_id is not null
),

events as (
    select * from order_events
    union all
    select * from ticket_events
    union all
    select * from survey_events
),

final as (
    select
        events.customer_id,
        cast(
            row_number() over (
                partition by events.customer_id
                order by events.event_at, events.event_type, events.event_id
            ) as {{ dbt.type_bigint() }}
        ) as event_sequence,
        events.event_at,
        events.event_date,
        events.event_type,
        events.event_id,
        events.detail,
        events.order_status,
        cast(events.order_amount as {{ type_double() }}) as order_amount,
        events.ticket_type,
        events.ticket_status,
        events.nps,
        events.csat
    from events
)

select * from final
