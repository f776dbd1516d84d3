"""Personal data: which published columns hold it, and the one way it is masked (README, "Who sees
what").

With C360_PII=masked the publish step copies every PII column through the SQL of this module:

- e-mail: SHA-256 hex of the e-mail trimmed and lower-cased (the identity key, so analysts can
  still count and join on it);
- phone: SHA-256 hex of its E.164 form, taken from the identity reference table
  (raw_identity.phone_numbers, the same parse the identity rules use); a phone without an E.164
  form (not a possible number) is hashed as its trimmed text;
- name: its first character followed by `***`;
- text (free text such as a survey comment, a raw record that is not a JSON object): SHA-256 hex.

Empty and null values stay as they are (they hold nothing). The SQL is a set of temporary DuckDB
macros installed on the publishing connection (`install`), so every table masks the same way.

Which columns: the dbt models' columns with `meta: {pii: true}` in the manifest (`model_pii`), the
kind read from `meta: {pii: <kind>}` or else from the column's name; raw record text published in
ops tables (`OPS_PII`) is masked field by field with the personal fields of the source contract
(`Entity.pii`).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from ..ingest.contract import ENTITIES, Entity

KINDS = ("email", "phone", "name", "text")
MACRO = "c360_pii_{kind}"
PHONE_TABLE = "c360_pii_phone_e164"  # temporary: phone text -> E.164, for the phone macro

RECORD = "record"  # a JSON record of a source entity (ops.quarantined_rows.record)
SNIPPET = "snippet"  # a reason ending in a quoted piece of a file (ops.rejected_files.reason)

# Published ops tables with personal data: (schema, table) -> column -> how it is masked.
OPS_PII: dict[tuple[str, str], dict[str, str]] = {
    ("ops", "quarantined_rows"): {"record": RECORD},
    ("ops", "rejected_files"): {"reason": SNIPPET},
}


class PiiError(ValueError):
    """A personal column the masking does not know how to mask, or that is missing."""


def kind_from_name(column: str) -> str:
    """The kind of a personal column by its name: given_email -> email, requester_phone -> phone."""
    lowered = column.lower()
    for kind in ("email", "phone", "name"):
        if kind in lowered:
            return kind
    return "text"


def _macros(region: str) -> dict[str, str]:
    quoted_region = "'" + region.replace("'", "''") + "'"
    blank = "nullif(trim(x), '') is null"
    return {
        "email": f"case when {blank} then x else sha256(lower(trim(x))) end",
        "phone": (
            f"case when {blank} then x else sha256(coalesce((select min(p.phone_e164) from {PHONE_TABLE} as p "
            f"where p.phone_raw = trim(x) and p.default_region = {quoted_region}), trim(x))) end"
        ),
        "name": f"case when {blank} then x else left(trim(x), 1) || '***' end",
        "text": f"case when {blank} then x else sha256(x) end",
    }


def install(con: duckdb.DuckDBPyConnection, region: str, phone_numbers: str | None = None) -> None:
    """Create the masking macros (temporary: they are never written to a published file).

    phone_numbers: a table with phone_raw, default_region, phone_e164 (the identity reference
    table of the working file); None for no E.164 forms (every phone hashed as its text).
    """
    source = phone_numbers or (
        "(select cast(null as varchar) as phone_raw, cast(null as varchar) as default_region, "
        "cast(null as varchar) as phone_e164 where false)"
    )
    con.execute(
        f"create or replace temp table {PHONE_TABLE} as "
        f"select phone_raw, default_region, phone_e164 from {source}"
    )
    for kind, body in _macros(region).items():
        con.execute(f"create or replace temp macro {MACRO.format(kind=kind)}(x) as {body}")


def mask(kind: str, expression: str) -> str:
    """SQL masking a text expression of this kind (email, phone, name, text)."""
    if kind not in KINDS:
        raise PiiError(f"unknown kind of personal data {kind!r} (known: {', '.join(KINDS)})")
    return f"{MACRO.format(kind=kind)}({expression})"


def _json_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _path_parts(path: str) -> list[str]:
    assert path.startswith("$."), path
    return path[2:].split(".")


def _json_path(parts: list[str]) -> str:
    return _json_text("$." + ".".join('"' + p.replace('"', '\\"') + '"' for p in parts))


def _nested_object(parts: list[str], value: str) -> str:
    """json_object('a', json_object('b', value)) for parts [a, b]."""
    for part in reversed(parts):
        value = f"json_object({_json_text(part)}, {value})"
    return value


def mask_record(record: str, paths: dict[str, str]) -> str:
    """SQL masking the personal fields (JSON path -> kind) of a JSON record given as text.

    A record that is not a JSON object is masked whole (kind text). A field that holds a value (a
    string, number, list ...) gets the mask of its text; a field on the way to a personal field
    that is not an object (`"requester": "Ann <ann@x.com>"`) is masked whole as text.
    """
    given = record
    # DuckDB may evaluate the JSON functions of the branches on every row (common subexpressions
    # are computed once, below the CASE): they read a valid JSON text in any case
    record = f"(case when coalesce(json_valid({given}), false) then {given} else '{{}}' end)"
    patches = []
    for path, kind in sorted(paths.items()):
        parts = _path_parts(path)
        for depth in range(1, len(parts)):
            parent = parts[:depth]
            parent_type = f"json_type({record}, {_json_path(parent)})"
            patches.append(
                f"case when {parent_type} not in ('OBJECT', 'NULL') then "
                f"{_nested_object(parent, mask('text', f'json_extract_string({record}, {_json_path(parent)})'))} end"
            )
        leaf_type = f"json_type({record}, {_json_path(parts)})"
        patches.append(
            f"case when {leaf_type} <> 'NULL' then "
            f"{_nested_object(parts, mask(kind, f'json_extract_string({record}, {_json_path(parts)})'))} end"
        )
    patched = record
    for patch in patches:
        patched = f"json_merge_patch({patched}, coalesce({patch}, '{{}}'))"
    return (
        f"case when {given} is null then {given} "
        f"when not coalesce(json_valid({given}), false) then {mask('text', given)} "
        f"when json_type({record}) <> 'OBJECT' then {mask('text', given)} "
        f"else cast({patched} as varchar) end"
    )


def mask_source_record(record: str, entity_column: str, entities: tuple[Entity, ...] = ENTITIES) -> str:
    """SQL masking a record of whichever source entity `entity_column` names (ops.quarantined_rows).
    A record of an entity not known here is masked whole."""
    branches = " ".join(
        f"when {_json_text(entity.name)} then {mask_record(record, entity.pii_paths())}"
        for entity in entities if entity.pii
    )
    without = ", ".join(_json_text(entity.name) for entity in entities if not entity.pii)
    masked = f"case {entity_column} {branches} else {mask('text', record)} end" if branches else mask('text', record)
    return f"case when {entity_column} in ({without}) then {record} else {masked} end" if without else masked


def mask_snippet(reason: str) -> str:
    """SQL withholding the quoted piece of a file a reason ends with (a malformed JSON line)."""
    return f"""regexp_replace({reason}, ': (''|").*$', ': <record text masked, C360_PII=masked>')"""


def column_sql(column: str, how: str, columns: list[str]) -> str:
    """The masked value of one column of a table with these columns."""
    quoted = '"' + column.replace('"', '""') + '"'
    if how == RECORD:
        if "entity" not in columns:
            raise PiiError(f"a source record column needs the table's entity column: {column}")
        return mask_source_record(quoted, '"entity"')
    if how == SNIPPET:
        return mask_snippet(quoted)
    return mask(how, quoted)


def select_list(table: str, columns: list[str], personal: dict[str, str]) -> str:
    """`select` list copying a table with these columns, its personal columns masked."""
    missing = sorted(set(personal) - set(columns))
    if missing:
        raise PiiError(f"{table}: personal column(s) declared but not in the table: {', '.join(missing)}")
    parts = []
    for column in columns:
        quoted = '"' + column.replace('"', '""') + '"'
        parts.append(f"{column_sql(column, personal[column], columns)} as {quoted}" if column in personal
                     else quoted)
    return ", ".join(parts)


def model_pii(manifest_path: Path, schemas: tuple[str, ...]) -> dict[tuple[str, str], dict[str, str]]:
    """(schema, table) -> {column: kind} of every model column marked `meta: {pii: ...}` in the
    dbt manifest (column meta or column config meta), for models in these schemas. `pii: true`
    takes the kind from the column's name; `pii: email|phone|name|text` names it."""
    manifest = json.loads(manifest_path.read_text())
    found: dict[tuple[str, str], dict[str, str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] not in schemas:
            continue
        for name, column in node.get("columns", {}).items():
            meta = {**(column.get("config") or {}).get("meta", {}), **(column.get("meta") or {})}
            flag = meta.get("pii")
            if not flag:
                continue
            kind = kind_from_name(name) if flag is True else str(flag)
            if kind not in KINDS:
                raise PiiError(f"{node['name']}.{name}: meta pii {flag!r} is not true nor one of {', '.join(KINDS)}")
            found.setdefault((node["schema"], node["alias"] or node["name"]), {})[name] = kind
    return found
