"""Phone numbers of every source, normalised to E.164 for identity matching (sources.md, Identity)."""


import dagster as dg
import pandas as pd
import phonenumbers

from ..resources import C360Resource
from ...warehouse import work_connection
from .contract import CUSTOMERS, RESPONSES, TICKETS

PHONE_NUMBERS_KEY = ["identity", "phone_numbers"]
PHONE_COLUMNS = ((CUSTOMERS, "phone"), (TICKETS, "requester_phone"), (RESPONSES, "phone"))


def to_e164(text, default_region: str):
    """E.164 form of a phone; None when it cannot be a phone number (no key, not an error)."""
    if text is None or not text.strip():
        return None
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    # A number of a possible length for its region; the digits themselves are not vetted.
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dg.asset(
    key=PHONE_NUMBERS_KEY,
    group_name="identity",
    kinds={"duckdb", "python"},
    deps=[entity.asset_key for entity, _ in PHONE_COLUMNS],
    description="Every phone text seen in any source with its E.164 form, for identity matching.",
)
def phone_numbers(context: dg.AssetExecutionContext, c360: C360Resource) -> dg.MaterializeResult:
    settings = c360.settings()
    region = settings.phone_region
    with work_connection(settings) as con:
        con.execute("create schema if not exists raw_identity")
        con.execute(
            "create table if not exists raw_identity.phone_numbers "
            "(phone_raw varchar not null, default_region varchar not null, phone_e164 varchar)"
        )
        seen = " union ".join(
            f'select trim("{column}") as phone_raw from {entity.raw_table} '
            f"where nullif(trim(\"{column}\"), '') is not null"
            for entity, column in PHONE_COLUMNS
        )
        new = con.execute(
            f"select phone_raw from ({seen}) as seen where phone_raw not in "
            "(select phone_raw from raw_identity.phone_numbers where default_region = ?)",
            [region],
        ).fetchall()
        frame = pd.DataFrame(
            {
                "phone_raw": [text for (text,) in new],
                "default_region": region,
                "phone_e164": [to_e164(text, region) for (text,) in new],
            }
        )
        con.register("new_phone_numbers", frame)
        con.execute("insert into raw_identity.phone_numbers select * from new_phone_numbers")
        total, parsed = con.execute(
            "select count(*), count(phone_e164) from raw_identity.phone_numbers where default_region = ?",
            [region],
        ).fetchone()
    context.log.info(f"phone numbers: {len(new)} new, {total} known for region {region}")
    return dg.MaterializeResult(
        metadata={"new_phone_texts": len(new), "phone_texts": total, "parseable": parsed, "region": region}
    )
