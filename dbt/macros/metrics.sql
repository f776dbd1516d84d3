{#- Days without a purchase after which a purchaser is churned (metrics.md, "Churn"). -#}
{% macro churn_after_days() -%}
    365
{%- endmacro %}
