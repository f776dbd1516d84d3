{#- Generic test: every non-null value of the column lies within [min_value, max_value] (either may be open). -#}
{% test value_in_range(model, column_name, min_value=none, max_value=none) %}
    select {{ column_name }}
    from {{ model }}
    where
        {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% endif %}
        {%- if min_value is not none and max_value is not none %} or{% endif %}
        {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% endif %}
{% endtest %}

{#- Generic test: every row satisfies `condition` (a row where it is null passes). -#}
{% test rows_satisfy(model, condition) %}
    select *
    from {{ model }}
    where not ({{ condition }})
{% endtest %}
