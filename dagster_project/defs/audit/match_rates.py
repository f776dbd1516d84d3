"""Identity match rates of every refresh: Dagster metadata, and a history table for data stewards."""

import dagster as dg

from ..resources import C360Resource
from ...warehouse import work_connection

MATCH_RATE_HISTORY_KEY = dg.AssetKey(["audit", "match_rate_history"])


@dg.asset(
    key=MATCH_RATE_HISTORY_KEY,
    group_name="audit",
    kinds={"duckdb"},
    deps=[dg.AssetKey(["audit", "identity_match_rates"]), dg.AssetKey(["audit", "unmatched_records"])],
    description=(
        "Appends this refresh's per-source match rates (dbt model identity_match_rates) to "
        "ops.match_rate_history, keyed by run id, and reports them as metadata."
    ),
)
def match_rate_history(context: dg.AssetExecutionContext, c360: C360Resource) -> dg.MaterializeResult:
    settings = c360.settings()
    with work_connection(settings) as con:
        con.execute(
            """
            create table if not exists ops.match_rate_history (
                run_id varchar not null,
                recorded_at timestamptz not null,
                source_entity varchar not null,
                records bigint not null,
                matched_records bigint not null,
                matched_by_customer_id bigint not null,
                matched_by_email bigint not null,
                matched_by_phone bigint not null,
                unmatched_no_key bigint not null,
                unmatched_ambiguous bigint not null,
                unmatched_unknown bigint not null,
                match_rate double
            )
            """
        )
        con.execute("delete from ops.match_rate_history where run_id = ?", [context.run.run_id])
        con.execute(
            """
            insert into ops.match_rate_history
            select ?, current_timestamp, source_entity, records, matched_records, matched_by_customer_id,
                   matched_by_email, matched_by_phone, unmatched_no_key, unmatched_ambiguous,
                   unmatched_unknown, match_rate
            from audit.identity_match_rates
            """,
            [context.run.run_id],
        )
        rows = con.execute(
            "select source_entity, records, matched_records, match_rate, unmatched_no_key, "
            "unmatched_ambiguous, unmatched_unknown from audit.identity_match_rates order by 1"
        ).fetchall()
    metadata = {}
    for source, records, matched, rate, no_key, ambiguous, unknown in rows:
        metadata[f"{source}.match_rate"] = dg.MetadataValue.float(float(rate or 0.0))
        metadata[f"{source}.records"] = records
        metadata[f"{source}.matched"] = matched
        metadata[f"{source}.unmatched"] = {"no_key": no_key, "ambiguous": ambiguous, "unknown": unknown}
        context.log.info(
            f"match rate {source}: {matched}/{records} = {float(rate or 0):.1%} "
            f"(unmatched: no_key {no_key}, ambiguous {ambiguous}, unknown {unknown})"
        )
    return dg.MaterializeResult(metadata=metadata)
