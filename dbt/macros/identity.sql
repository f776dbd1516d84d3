{#-
    Identity rules of sources.md, in order, for the rows of `records_cte`:
    1. a customer_id naming a known customer; 2. the normalised email, when it is the email of
    exactly one customer; 3. the E.164 phone, when it is the phone of exactly one customer.
    Otherwise unmatched, with the reason: no_key (no customer_id, email or parseable phone),
    ambiguous (an email or phone shared by several customers), unknown (keys that name nobody).
    Adds matched_customer_id, match_method and unmatched_reason.
-#}
{% macro match_to_customers(records_cte, customer_id_column, email_column, phone_column) -%}
    select
        {{ records_cte }}.*,
        coalesce(
            known_customers.customer_id,
            case when email_keys.customers_with_key = 1 then email_keys.customer_id end,
            case when phone_keys.customers_with_key = 1 then phone_keys.customer_id end
        ) as matched_customer_id,
        case
            when known_customers.customer_id is not null then 'customer_id'
            when email_keys.customers_with_key = 1 then 'email'
            when phone_keys.customers_with_key = 1 then 'phone'
        end as match_method,
        case
            when known_customers.customer_id is not null
                or email_keys.customers_with_key = 1
                or phone_keys.customers_with_key = 1 then null
            when {{ records_cte }}.{{ customer_id_column }} is null
                and {{ records_cte }}.{{ email_column }} is null
                and record_phones.phone_e164 is null then 'no_key'
            when email_keys.customers_with_key > 1 or phone_keys.customers_with_key > 1 then 'ambiguous'
            else 'unknown'
        end as unmatched_reason
    from {{ records_cte }}
    left join {{ ref('stg_sales__customers') }} as known_customers
        on {{ records_cte }}.{{ customer_id_column }} = known_customers.customer_id
    left join {{ ref('stg_identity__phone_numbers') }} as record_phones
        on {{ records_cte }}.{{ phone_column }} = record_phones.phone_raw
    left join {{ ref('int_customer_identity_keys_indexed') }} as email_keys
        on
            email_keys.key_type = 'email'
            and lower({{ records_cte }}.{{ email_column }}) = email_keys.key_value
    left join {{ ref('int_customer_identity_keys_indexed') }} as phone_keys
        on
            phone_keys.key_type = 'phone'
            and record_phones.phone_e164 = phone_keys.key_value
{%- endmacro %}
