{#-
    Tier history: one row per tier spell of a customer, built from every version of the customer
    record ever received (so several extracts loaded by one refresh still show each change).
    A day's tier is the tier of the day's last version (the tier held at the end of that date).
-#}
with

customer_versions as (
    select * from {{ ref('stg_sales__customer_versions') }}
),

tiered_versions as (
    select
        customer_versions.customer_id,
        customer_versions.tier,
        customer_versions.updated_date,
        customer_versions.version_recency_rank
    from customer_versions
    where customer_versions.tier is not null
),

day_end_tiers as (
    {#- version_recency_rank orders every version newest first, so the day's last version ranks lowest. -#}
    {{ keep_first_row('tiered_versions', 'customer_id, updated_date', 'version_recency_rank') }}
),

tier_changes as (
    select
        day_end_tiers.customer_id,
        day_end_tiers.tier,
        day_end_tiers.updated_date,
        lag(day_end_tiers.tier) over (
            partition by day_end_tiers.customer_id order by day_end_tiers.updated_date
        ) as previous_tier
    from day_end_tiers
),

spell_starts as (
    select
        tier_changes.customer_id,
        tier_changes.tier,
        tier_changes.previous_tier,
        tier_changes.updated_date as valid_from_date
    from tier_changes
    where tier_changes.previous_tier is null or tier_changes.previous_tier <> tier_changes.tier
),

spells as (
    select
        spell_starts.customer_id,
        spell_starts.tier,
        spell_starts.previous_tier,
        spell_starts.valid_from_date,
        row_number() over (
            partition by spell_starts.customer_id order by spell_starts.valid_from_date
        ) as tier_spell_number,
        lead(spell_starts.valid_from_date) over (
            partition by spell_starts.customer_id order by spell_starts.valid_from_date
        ) as next_valid_from_date
    from spell_starts
),

final as (
    select
        spells.customer_id,
        cast(spells.tier_spell_number as {{ dbt.type_int() }}) as tier_spell_number,
        spells.tier,
        {{ tier_rank('spells.tier') }} as tier_rank,
        spells.previous_tier,
        coalesce({{ tier_rank('spells.tier') }} > {{ tier_rank('spells.previous_tier') }}, false) as is_upgrade,
        spells.valid_from_date,
        cast({{ dbt.dateadd('day', -1, 'spells.next_valid_from_date') }} as date) as valid_to_date,
        spells.next_valid_from_date is null as is_current
    from spells
)

select * from final
