{#- The ERP's tiers, lowest rank first (metrics.md: standard < gold; sources.md: the accepted values). -#}
{% macro tiers_by_rank() -%}
    {{ return(['standard', 'gold']) }}
{%- endmacro %}

{#- Rank of a tier: 1 = standard, 2 = gold; null for a missing tier. -#}
{% macro tier_rank(tier_expression) -%}
    case {{ tier_expression }}
        {%- for tier in tiers_by_rank() %}
        when '{{ tier }}' then {{ loop.index }}
        {%- endfor %}
    end
{%- endmacro %}

{#-
    Join condition: the tier spell of int_customer_tiers_historized (alias `spells`) that holds the
    customer's tier at the end of `date_expression`. The first spell also covers every date before
    the history begins (metrics.md: "before the history begins, the earliest known tier").
-#}
{% macro tier_spell_covers(spells, date_expression) -%}
    ({{ spells }}.valid_from_date <= {{ date_expression }} or {{ spells }}.tier_spell_number = 1)
    and ({{ spells }}.valid_to_date >= {{ date_expression }} or {{ spells }}.valid_to_date is null)
{%- endmacro %}
