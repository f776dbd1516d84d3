{#-
    Each customer's distinct purchase dates from the purchases in `purchases_cte`, with the
    previous and the next distinct purchase date (null at either end). The body of a CTE.
-#}
{% macro distinct_purchase_dates_in_sequence(purchases_cte) -%}
    select
        purchase_dates.customer_id,
        purchase_dates.purchase_date,
        lag(purchase_dates.purchase_date) over (
            partition by purchase_dates.customer_id order by purchase_dates.purchase_date
        ) as previous_purchase_date,
        lead(purchase_dates.purchase_date) over (
            partition by purchase_dates.customer_id order by purchase_dates.purchase_date
        ) as next_purchase_date
    from (
        select distinct
            {{ purchases_cte }}.customer_id,
            {{ purchases_cte }}.purchase_date
        from {{ purchases_cte }}
    ) as purchase_dates
{%- endmacro %}
