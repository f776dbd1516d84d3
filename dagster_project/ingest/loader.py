"""Land source extracts in the raw layer of the working DuckDB file.

One file is one transaction: its rows land in the raw table (every row, with
file, line, load id and, for a row that cannot be read safely, the quarantine
reason) together with its entry in ops.loaded_files, or not at all. A file that
cannot be read as a whole is recorded in ops.rejected_files and named in the
error raised at the end of the load; the files around it still load.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .contract import Entity

FILE_NAME = re.compile(r"^(?P<entity>[a-z_]+)_(?P<date>\d{4}-\d{2}-\d{2})\.(?P<ext>[a-z]+)$")

OPS_DDL = """
create schema if not exists ops;
create sequence if not exists ops.file_id_seq;
create table if not exists ops.loaded_files (
    file_id bigint primary key,
    load_id varchar not null,
    system varchar not null,
    entity varchar not null,
    file_name varchar not null,
    extract_date date not null,
    size_bytes bigint not null,
    mtime_ns bigint not null,
    sha256 varchar not null,
    rows_read bigint not null,
    rows_quarantined bigint not null,
    extra_columns varchar,
    loaded_at timestamptz not null default current_timestamp
);
create table if not exists ops.rejected_files (
    load_id varchar not null,
    system varchar not null,
    entity varchar not null,
    file_name varchar not null,
    reason varchar not null,
    rejected_at timestamptz not null default current_timestamp
);
"""


class RejectedFilesError(RuntimeError):
    """One or more extracts could not be read at all; the refresh must not publish."""


class FileRejected(Exception):
    """This file cannot be read as a whole."""


@dataclass(frozen=True)
class IncomingFile:
    """An extract not loaded yet, as found on disk."""

    path: Path
    size: int
    mtime_ns: int
    sha256: str
    encoding_problem: str | None  # why the bytes are not UTF-8 text, if they are not


@dataclass
class LoadSummary:
    entity: str
    files_loaded: int = 0
    files_skipped: int = 0
    rows_read: int = 0
    rows_quarantined: int = 0
    quarantine_reasons: Counter = field(default_factory=Counter)
    schema_drift: dict[str, list[str]] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)

    def as_metadata(self) -> dict:
        return {
            "files_loaded": self.files_loaded,
            "files_skipped": self.files_skipped,
            "files_rejected": len(self.rejected),
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_read - self.rows_quarantined,
            "rows_quarantined": self.rows_quarantined,
            "quarantine_reasons": dict(sorted(self.quarantine_reasons.items())),
            "schema_drift": self.schema_drift,
            "rejected_files": self.rejected,
        }


def ensure_ops_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(OPS_DDL)


def ensure_raw_table(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    cols = ",\n    ".join(f'"{c}" varchar' for c in entity.columns)
    extra = "_record varchar" if entity.file_format == "jsonl" else "_extra varchar"
    con.execute(f"create schema if not exists {entity.raw_schema}")
    con.execute(
        f"""
        create table if not exists {entity.raw_table} (
            _file_id bigint not null,
            _load_id varchar not null,
            _file varchar not null,
            _line bigint not null,
            _extract_date date not null,
            {cols},
            {extra},
            _quarantine_reason varchar
        )
        """
    )


def discover_files(source_dir: Path, entity: Entity) -> tuple[list[Path], list[Path]]:
    """(this entity's extracts sorted by extract date then name, unrecognised files)."""
    folder = source_dir / entity.system
    if not folder.is_dir():
        return [], []
    mine, unrecognised = [], []
    for path in folder.iterdir():
        if not path.is_file() or path.name.startswith("."):
            continue
        match = FILE_NAME.match(path.name)
        if match is None:
            unrecognised.append(path)
        elif match["entity"] == entity.name and match["ext"] == entity.extension:
            mine.append(path)
    mine.sort(key=lambda p: (FILE_NAME.match(p.name)["date"], p.name))
    return mine, sorted(unrecognised)


def _fingerprint(path: Path) -> tuple[str, str | None]:
    """(sha256 of the bytes, why the text is not UTF-8 or None), in one pass over the file."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line, problem = 0, 1, None
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            if problem is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    # the decoder may hold back up to 3 bytes of a split character from earlier chunks
                    position = max(offset + exc.start - len(exc.object) + len(chunk), offset)
                    line_here = line + chunk[: position - offset].count(b"\n")
                    problem = f"broken encoding, not UTF-8 ({exc.reason} at byte {position}, line {line_here})"
            offset += len(chunk)
            line += chunk.count(b"\n")
    if problem is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            problem = f"broken encoding, not UTF-8 ({exc.reason} at the end of the file)"
    return digest.hexdigest(), problem


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise FileRejected("no header row")
    # an unnamed column (a trailing comma, say) gets a name from its position
    return [h.strip() or f"_column_{number}" for number, h in enumerate(header, start=1)]


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _csv_problem(error: duckdb.Error) -> str:
    """DuckDB's CSV error, shortened to where and what."""
    text = str(error)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    where = f" at line {line[1]}" if line else ""
    columns = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if columns:
        what = f"{columns[2]} fields where the header has {columns[1]}"
    elif "unterminated quote" in text:
        what = "a quoted field is never closed"
    else:
        what = text.strip().splitlines()[0]
    return f"not valid CSV{where}: {what}"


def _read_csv_sql(path: Path, entity: Entity) -> tuple[str, list[str]]:
    header = _csv_header(path)
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise FileRejected(f"duplicate column names: {', '.join(duplicated)}")
    required = entity.required_columns or entity.columns
    missing = [c for c in required if c not in header]
    if missing:
        raise FileRejected(f"required column(s) missing: {', '.join(missing)}")
    extras = [h for h in header if h not in entity.columns]
    column_types = ", ".join(f"{_sql_text(h)}: 'VARCHAR'" for h in header)
    selected = ", ".join(
        _sql_name(c) if c in header else f"cast(null as varchar) as {_sql_name(c)}" for c in entity.columns
    )
    extra_sql = (
        "cast(json_object(" + ", ".join(f"{_sql_text(h)}, {_sql_name(h)}" for h in extras) + ") as varchar)"
        if extras
        else "cast(null as varchar)"
    )
    sql = f"""
        select {selected}, {extra_sql} as _extra, ordinality as _line
        from read_csv({_sql_text(str(path))}, header = true, auto_detect = false,
                      delim = ',', quote = '"', escape = '"', strict_mode = true,
                      columns = {{{column_types}}}) with ordinality
    """
    return sql, extras


def _stage_jsonl_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Temp table _lines: every non-blank line of a JSON Lines file with its line number.

    DuckDB's NDJSON reader refuses a byte-order mark, so the lines are split here; a line
    that is not valid JSON (a truncated last record, say) rejects the whole file.
    """
    con.execute(
        f"""
        create or replace temp table _lines as
        select line as _line, text
        from (
            select cast(line as bigint) as line, ltrim(rtrim(raw_text, chr(13)), chr(65279)) as text
            from (select string_split(content, chr(10)) as lines from read_text({_sql_text(str(path))}))
                as file_text,
                unnest(file_text.lines) with ordinality as split(raw_text, line)
        ) as numbered
        where trim(text) <> ''
        """
    )
    bad = con.execute(
        "select _line, text from _lines where not json_valid(text) order by _line limit 1"
    ).fetchone()
    if bad is not None:
        line, text = bad
        snippet = text if len(text) <= 60 else text[:57] + "..."
        raise FileRejected(f"truncated or malformed JSON at line {line}: {snippet!r}")


def _read_jsonl_sql(entity: Entity) -> str:
    fields = []
    for column in entity.columns:
        json_path = entity.json_paths[column]
        if column == "tags":
            fields.append(f"cast(json_extract(text, '{json_path}') as varchar) as {_sql_name(column)}")
        else:
            fields.append(f"json_extract_string(text, '{json_path}') as {_sql_name(column)}")
    return f"select {', '.join(fields)}, text as _record, _line from _lines"


def _jsonl_checks(con: duckdb.DuckDBPyConnection, entity: Entity) -> list[str]:
    """Reject a JSON Lines file none of whose records carries a required key; return drift."""
    top_level = {p.split(".")[1] for p in entity.json_paths.values()}
    for column in entity.required_columns:
        top = entity.json_paths[column].split(".")[1]
        present = con.execute(
            f"select count(*) from _incoming where json_type(_record) = 'OBJECT' "
            f"and json_exists(_record, '$.{top}')"
        ).fetchone()[0]
        if present == 0:
            raise FileRejected(f"required field missing from every record: {column}")
    keys = con.execute(
        "select distinct unnest(json_keys(_record)) from _incoming "
        "where json_type(_record) = 'OBJECT' order by 1"
    ).fetchall()
    return [k for (k,) in keys if k not in top_level]


def _load_one_file(
    con: duckdb.DuckDBPyConnection, entity: Entity, incoming: IncomingFile, load_id: str
) -> tuple[int, Counter, list[str]]:
    """Load one file in the caller's transaction. Returns (rows, reasons, extra columns)."""
    path = incoming.path
    if incoming.size == 0:
        raise FileRejected("empty file (0 bytes)")
    if incoming.encoding_problem:
        raise FileRejected(incoming.encoding_problem)
    if entity.file_format == "csv":
        read_sql, extras = _read_csv_sql(path, entity)
        try:
            con.execute(f"create or replace temp table _incoming as {read_sql}")
        except duckdb.Error as exc:
            raise FileRejected(_csv_problem(exc)) from exc
    else:
        _stage_jsonl_lines(con, path)
        con.execute(f"create or replace temp table _incoming as {_read_jsonl_sql(entity)}")
        extras = []
    rows = con.execute("select count(*) from _incoming").fetchone()[0]
    if rows == 0:
        raise FileRejected("header only, no data rows" if entity.file_format == "csv" else "no records")
    if entity.file_format == "jsonl":
        extras = _jsonl_checks(con, entity)
        reason = (
            "case when json_type(_record) <> 'OBJECT' then 'not_an_object:record' "
            f"else {entity.quarantine_reason_sql()} end"
        )
        extra_col = "_record"
    else:
        reason = entity.quarantine_reason_sql()
        extra_col = "_extra"
    if entity.duplicate_key_is_bad:
        key = entity.key[0]
        reason = f"""coalesce({reason}, case
            when row_number() over (partition by trim("{key}"), ({reason}) is null order by _line) > 1
              or trim("{key}") in (select trim("{key}") from {entity.raw_table}
                                   where _quarantine_reason is null)
            then 'duplicate:{key}' end)"""
    file_id = con.execute("select nextval('ops.file_id_seq')").fetchone()[0]
    extract_date = FILE_NAME.match(path.name)["date"]
    cols = ", ".join(f'"{c}"' for c in entity.columns)
    con.execute(
        f"""
        insert into {entity.raw_table}
            (_file_id, _load_id, _file, _line, _extract_date, {cols}, {extra_col}, _quarantine_reason)
        select ?, ?, ?, _line, cast(? as date), {cols}, {extra_col}, {reason}
        from _incoming
        """,
        [file_id, load_id, path.name, extract_date],
    )
    reasons = Counter(
        dict(
            con.execute(
                f"select _quarantine_reason, count(*) from {entity.raw_table} "
                "where _file_id = ? and _quarantine_reason is not null group by 1",
                [file_id],
            ).fetchall()
        )
    )
    con.execute(
        """
        insert into ops.loaded_files (file_id, load_id, system, entity, file_name, extract_date,
            size_bytes, mtime_ns, sha256, rows_read, rows_quarantined, extra_columns)
        values (?, ?, ?, ?, ?, cast(? as date), ?, ?, ?, ?, ?, ?)
        """,
        [file_id, load_id, entity.system, entity.name, path.name, extract_date, incoming.size,
         incoming.mtime_ns, incoming.sha256,
         rows, sum(reasons.values()), ", ".join(extras) or None],
    )
    con.execute("drop table if exists _incoming")
    con.execute("drop table if exists _lines")
    return rows, reasons, extras


def load_entity(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    source_dir: Path,
    load_id: str,
    log: Callable[[str], None] = print,
) -> LoadSummary:
    """Load every extract of one entity not loaded before. Never raises for a bad file."""
    ensure_ops_schema(con)
    ensure_raw_table(con, entity)
    summary = LoadSummary(entity=f"{entity.system}.{entity.name}")
    files, _ = discover_files(source_dir, entity)
    known = {
        (name, size, mtime): sha
        for name, size, mtime, sha in con.execute(
            "select file_name, size_bytes, mtime_ns, sha256 from ops.loaded_files "
            "where system = ? and entity = ?",
            [entity.system, entity.name],
        ).fetchall()
    }
    known_content = {(name, sha) for (name, _, _), sha in known.items()}
    pending = []
    for path in files:
        stat = path.stat()
        if (path.name, stat.st_size, stat.st_mtime_ns) in known:
            summary.files_skipped += 1
            continue
        sha, encoding_problem = _fingerprint(path)
        if (path.name, sha) in known_content:
            summary.files_skipped += 1
            continue
        pending.append(IncomingFile(path, stat.st_size, stat.st_mtime_ns, sha, encoding_problem))
    log(f"{summary.entity}: {len(pending)} new file(s), {summary.files_skipped} already loaded")
    for number, incoming in enumerate(pending, start=1):
        path = incoming.path
        con.execute("begin transaction")
        try:
            rows, reasons, extras = _load_one_file(con, entity, incoming, load_id)
            con.execute("commit")
        except FileRejected as exc:
            con.execute("rollback")
            message = f"{entity.system}/{path.name}: {exc}"
            summary.rejected[path.name] = str(exc)
            con.execute(
                "insert into ops.rejected_files (load_id, system, entity, file_name, reason) "
                "values (?, ?, ?, ?, ?)",
                [load_id, entity.system, entity.name, path.name, str(exc)],
            )
            log(f"REJECTED {message}")
            continue
        except BaseException:
            con.execute("rollback")
            raise
        summary.files_loaded += 1
        summary.rows_read += rows
        summary.rows_quarantined += sum(reasons.values())
        summary.quarantine_reasons.update(reasons)
        if extras:
            summary.schema_drift[path.name] = extras
        if number % 50 == 0 or number == len(pending):
            log(f"{summary.entity}: loaded {number}/{len(pending)} file(s), {summary.rows_read} rows")
    return summary


def rejection_message(summaries: list[LoadSummary], source_dir: Path) -> str | None:
    lines = [
        f"{source_dir}/{s.entity.split('.')[0]}/{name}: {reason}"
        for s in summaries
        for name, reason in s.rejected.items()
    ]
    if not lines:
        return None
    return "rejected file(s), the refresh will not publish:\n  " + "\n  ".join(lines)
