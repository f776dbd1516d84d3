"""Land source extracts in the raw layer of the working DuckDB file.

The new files of an entity load in batches: consecutive in file order, at most BATCH_FILES files
of about BATCH_BYTES. One batch is one transaction: its rows land in the raw table (every row,
with file, line, load id and, for a row that cannot be read safely, the quarantine reason)
together with one ops.loaded_files entry per file, or none of it does. CSV files with the same
header are read by one multi-file read, JSON Lines files by one read_text. A file that cannot be
read as a whole is recorded in ops.rejected_files and named in the error raised at the end of the
load; the other files of its batch still load (if DuckDB cannot read a batch's CSV files together,
the batch loads again one file per transaction, so the malformed file is named with its own error)."""

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

# a batch reads at most this many files of about this many bytes together (a larger file is a
# batch of its own); a long load logs its progress and commits after each batch
BATCH_FILES = 50
BATCH_BYTES = 512 << 20
# the column a multi-file read names each row's file in
SOURCE_FILE = "_source_file"

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

    def progress(self) -> str:
        """Rows so far: read, accepted, quarantined by reason, and files rejected."""
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.quarantine_reasons.items()))
        return (
            f"{self.rows_read} row(s) read, {self.rows_read - self.rows_quarantined} accepted, "
            f"{self.rows_quarantined} quarantined" + (f" ({reasons})" if reasons else "")
            + (f"; {len(self.rejected)} file(s) rejected" if self.rejected else "")
        )

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


def _checked_csv_header(path: Path, entity: Entity) -> tuple[str, ...]:
    """The file's header, or FileRejected if it repeats a name or lacks a required column."""
    header = _csv_header(path)
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise FileRejected(f"duplicate column names: {', '.join(duplicated)}")
    required = entity.required_columns or entity.columns
    missing = [c for c in required if c not in header]
    if missing:
        raise FileRejected(f"required column(s) missing: {', '.join(missing)}{_delimiter_hint(path, required)}")
    return tuple(header)


OTHER_DELIMITERS = {";": "semicolons (;)", "\t": "tabs", "|": "pipes (|)"}


def _delimiter_hint(path: Path, required: tuple[str, ...] | list[str]) -> str:
    """When the header would name the required columns split on another delimiter, say so."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first_line = handle.readline()
    for delimiter, name in OTHER_DELIMITERS.items():
        fields = next(csv.reader([first_line], delimiter=delimiter), [])
        if all(column in [f.strip() for f in fields] for column in required):
            return f" (the header is separated by {name}; the contract's CSV files use commas)"
    return ""


def _read_csv_sql(paths: list[Path], header: tuple[str, ...], entity: Entity) -> tuple[str, list[str]]:
    """One read of files that share this header: (_file, _line, contract columns, _extra).

    _line is the row's position in the whole read; the rows of one file are numbered
    consecutively in file order, so the file's first row has the file's smallest _line.
    """
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
    files = ", ".join(_sql_text(str(path)) for path in paths)
    sql = f"""
        select {SOURCE_FILE} as _file, ordinality as _line, {selected}, {extra_sql} as _extra
        from read_csv([{files}], filename = {_sql_text(SOURCE_FILE)}, header = true, auto_detect = false,
                      delim = ',', quote = '"', escape = '"', strict_mode = true,
                      columns = {{{column_types}}}) with ordinality
    """
    return sql, extras


def _stage_csv(
    con: duckdb.DuckDBPyConnection, entity: Entity, headers: dict[Path, tuple[str, ...]]
) -> dict[Path, list[str]]:
    """Temp table _incoming: the rows of every file, one read per distinct header, in one
    statement. Returns each file's extra columns."""
    groups: dict[tuple[str, ...], list[Path]] = {}
    for path, header in headers.items():
        groups.setdefault(header, []).append(path)
    reads, extras = [], {}
    for header, paths in groups.items():
        sql, group_extras = _read_csv_sql(paths, header, entity)
        reads.append(sql)
        extras.update({path: group_extras for path in paths})
    con.execute("create or replace temp table _incoming as " + " union all ".join(reads))
    return extras


def _stage_jsonl_lines(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> dict[Path, str]:
    """Temp table _lines: every non-blank line of the JSON Lines files with its file and line number.

    DuckDB's NDJSON reader refuses a byte-order mark, so the lines are split here; a line
    that is not valid JSON (a truncated last record, say) rejects its whole file. Returns
    {file: why it is rejected}.
    """
    files = ", ".join(_sql_text(str(path)) for path in paths)
    con.execute(
        f"""
        create or replace temp table _lines as
        select filename as _file, line as _line, text
        from (
            select filename, cast(line as bigint) as line,
                   ltrim(rtrim(raw_text, chr(13)), chr(65279)) as text
            from (select filename, string_split(content, chr(10)) as lines from read_text([{files}]))
                as file_text,
                unnest(file_text.lines) with ordinality as split(raw_text, line)
        ) as numbered
        where trim(text) <> ''
        """
    )
    rejected = {}
    for name, line, text in con.execute(
        "select _file, min(_line), arg_min(text, _line) from _lines where not json_valid(text) group by 1"
    ).fetchall():
        snippet = text if len(text) <= 60 else text[:57] + "..."
        rejected[Path(name)] = f"truncated or malformed JSON at line {line}: {snippet!r}"
    return rejected


def _read_jsonl_sql(entity: Entity) -> str:
    """The contract's columns of the lines of _lines whose file is not in the list parameter."""
    # one json_extract_string with every path parses each line once, not once per column
    text_columns = [c for c in entity.columns if c != "tags"]
    paths = ", ".join(_sql_text(entity.json_paths[c]) for c in text_columns)
    fields = []
    for column in entity.columns:
        if column == "tags":
            json_path = entity.json_paths[column]
            fields.append(f"cast(json_extract(text, '{json_path}') as varchar) as {_sql_name(column)}")
        else:
            fields.append(f"_values[{text_columns.index(column) + 1}] as {_sql_name(column)}")
    return f"""
        select _file, _line, {', '.join(fields)}, text as _record
        from (select *, json_extract_string(text, [{paths}]) as _values
              from _lines where not list_contains(?, _file)) as parsed
    """


def _jsonl_checks(
    con: duckdb.DuckDBPyConnection, entity: Entity
) -> tuple[dict[Path, str], dict[Path, list[str]]]:
    """Per file of _incoming: ({file: why rejected}, {file: drift}). A file none of whose records
    carries a required key is rejected; drift lists the top-level keys outside the contract."""
    top_level = {p.split(".")[1] for p in entity.json_paths.values()}
    required = [(c, entity.json_paths[c].split(".")[1]) for c in entity.required_columns]
    counts = ", ".join(
        f"count_if(json_type(_record) = 'OBJECT' and json_exists(_record, '$.{top}'))" for _, top in required
    )
    rejected = {}
    if required:
        for name, *present in con.execute(f"select _file, {counts} from _incoming group by 1").fetchall():
            missing = [column for (column, _), count in zip(required, present) if count == 0]
            if missing:
                rejected[Path(name)] = f"required field missing from every record: {missing[0]}"
    drift: dict[Path, list[str]] = {}
    for name, key in con.execute(
        "select distinct _file, unnest(json_keys(_record)) from _incoming "
        "where json_type(_record) = 'OBJECT' order by 1, 2"
    ).fetchall():
        if key not in top_level:
            drift.setdefault(Path(name), []).append(key)
    return rejected, drift


class _BatchReadFailed(Exception):
    """DuckDB could not read the CSV files of a batch (args[0]: its error): one of them is malformed."""


Loaded = tuple[int, Counter, list[str]]  # rows read, quarantine reasons, extra columns


def _duplicate_rule(entity: Entity, reason: str) -> str:
    """The reason with 'duplicate:<key>' for an otherwise clean row whose key was accepted before:
    earlier in the batch (file order, then line) or in the raw table."""
    key = _sql_name(entity.key[0])
    return f"""coalesce({reason}, case
        when row_number() over (partition by trim({key}), ({reason}) is null
                                order by _batch_file_id, _line) > 1
          or trim({key}) in (select trim({key}) from {entity.raw_table} where _quarantine_reason is null)
        then 'duplicate:{entity.key[0]}' end)"""


def _stage_batch(
    con: duckdb.DuckDBPyConnection, entity: Entity, files: list[IncomingFile]
) -> tuple[dict[Path, FileRejected], dict[Path, list[str]]]:
    """Temp table _incoming with the rows of every file that can be read: (rejected, extras)."""
    rejected: dict[Path, FileRejected] = {}
    readable: dict[Path, tuple[str, ...]] = {}
    for incoming in files:
        try:
            if incoming.size == 0:
                raise FileRejected("empty file (0 bytes)")
            if incoming.encoding_problem:
                raise FileRejected(incoming.encoding_problem)
            readable[incoming.path] = (
                _checked_csv_header(incoming.path, entity) if entity.file_format == "csv" else ()
            )
        except FileRejected as exc:
            rejected[incoming.path] = exc
    if not readable:
        return rejected, {}
    if entity.file_format == "csv":
        try:
            return rejected, _stage_csv(con, entity, readable)
        except duckdb.Error as exc:
            raise _BatchReadFailed(exc) from exc
    malformed = _stage_jsonl_lines(con, list(readable))
    rejected.update({path: FileRejected(reason) for path, reason in malformed.items()})
    con.execute(f"create or replace temp table _incoming as {_read_jsonl_sql(entity)}",
                [[str(path) for path in malformed]])
    return rejected, {}


def _load_batch(
    con: duckdb.DuckDBPyConnection, entity: Entity, files: list[IncomingFile], load_id: str
) -> dict[Path, Loaded | FileRejected]:
    """Load files (in file order) in one transaction: what happened to each file.

    Raises _BatchReadFailed, with nothing loaded, when several files read together fail."""
    con.execute("begin transaction")
    try:
        outcomes = _load_batch_in_transaction(con, entity, files, load_id)
        con.execute("drop table if exists _incoming")
        con.execute("drop table if exists _lines")
        con.execute("drop table if exists _batch_files")
        con.execute("commit")
    except _BatchReadFailed as exc:
        con.execute("rollback")
        if len(files) > 1:
            raise
        return {files[0].path: FileRejected(_csv_problem(exc.args[0]))}
    except BaseException:
        con.execute("rollback")
        raise
    return outcomes


def _load_batch_in_transaction(
    con: duckdb.DuckDBPyConnection, entity: Entity, files: list[IncomingFile], load_id: str
) -> dict[Path, Loaded | FileRejected]:
    rejected, extras = _stage_batch(con, entity, files)
    outcomes: dict[Path, Loaded | FileRejected] = dict(rejected)
    staged = [f for f in files if f.path not in rejected]
    if not staged:
        return outcomes
    # rows and first _line of each file (a CSV file's lines are numbered from the whole read)
    found = {
        Path(name): (rows, first_line)
        for name, rows, first_line in con.execute(
            "select _file, count(*), min(_line) from _incoming group by 1").fetchall()
    }
    for incoming in staged:
        if incoming.path not in found:
            outcomes[incoming.path] = FileRejected(
                "header only, no data rows" if entity.file_format == "csv" else "no records")
    if entity.file_format == "jsonl":
        no_required, extras = _jsonl_checks(con, entity)
        outcomes.update({path: FileRejected(reason) for path, reason in no_required.items()})
        reason = (
            "case when json_type(_record) <> 'OBJECT' then 'not_an_object:record' "
            f"else {entity.quarantine_reason_sql()} end"
        )
        extra_col = "_record"
    else:
        reason = entity.quarantine_reason_sql()
        extra_col = "_extra"
    if entity.duplicate_key_is_bad:
        reason = _duplicate_rule(entity, reason)
    loading = [f for f in staged if f.path not in outcomes]
    if not loading:
        return outcomes
    # file ids are drawn in file order: a later file always gets a larger id
    batch_files = []
    for incoming in loading:
        file_id = con.execute("select nextval('ops.file_id_seq')").fetchone()[0]
        line_offset = found[incoming.path][1] - 1 if entity.file_format == "csv" else 0
        extract_date = FILE_NAME.match(incoming.path.name)["date"]
        batch_files.append((str(incoming.path), file_id, incoming.path.name, extract_date, line_offset))
    con.execute(
        "create or replace temp table _batch_files (_batch_path varchar, _batch_file_id bigint, "
        "_batch_name varchar, _batch_date date, _batch_line_offset bigint)"
    )
    con.executemany("insert into _batch_files values (?, ?, ?, cast(? as date), ?)", batch_files)
    cols = ", ".join(_sql_name(c) for c in entity.columns)
    con.execute(
        f"""
        insert into {entity.raw_table}
            (_file_id, _load_id, _file, _line, _extract_date, {cols}, {extra_col}, _quarantine_reason)
        select _batch_file_id, ?, _batch_name, _line - _batch_line_offset, _batch_date, {cols}, {extra_col},
               {reason}
        from _incoming join _batch_files on _file = _batch_path
        """,
        [load_id],
    )
    first_id, last_id = batch_files[0][1], batch_files[-1][1]
    reasons: dict[int, Counter] = {file_id: Counter() for _, file_id, *_ in batch_files}
    for file_id, why, count in con.execute(
        f"select _file_id, _quarantine_reason, count(*) from {entity.raw_table} "
        "where _file_id between ? and ? and _quarantine_reason is not null group by 1, 2",
        [first_id, last_id],
    ).fetchall():
        reasons[file_id][why] = count
    for incoming, (_, file_id, name, extract_date, _) in zip(loading, batch_files):
        rows = found[incoming.path][0]
        file_extras = extras.get(incoming.path, [])
        con.execute(
            """
            insert into ops.loaded_files (file_id, load_id, system, entity, file_name, extract_date,
                size_bytes, mtime_ns, sha256, rows_read, rows_quarantined, extra_columns)
            values (?, ?, ?, ?, ?, cast(? as date), ?, ?, ?, ?, ?, ?)
            """,
            [file_id, load_id, entity.system, entity.name, name, extract_date, incoming.size,
             incoming.mtime_ns, incoming.sha256, rows, sum(reasons[file_id].values()),
             ", ".join(file_extras) or None],
        )
        outcomes[incoming.path] = (rows, reasons[file_id], file_extras)
    return outcomes


def _batches(files: list[IncomingFile]) -> list[list[IncomingFile]]:
    """Consecutive runs of files (file order kept) of at most BATCH_FILES, about BATCH_BYTES each."""
    batches: list[list[IncomingFile]] = []
    size = 0
    for incoming in files:
        if not batches or len(batches[-1]) == BATCH_FILES or size + incoming.size > BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(incoming)
        size += incoming.size
    return batches


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
    done = 0
    for batch in _batches(pending):
        try:
            outcomes = _load_batch(con, entity, batch, load_id)
        except _BatchReadFailed:
            # a malformed file among them: one transaction per file, so it is named and the rest load
            outcomes = {}
            for incoming in batch:
                outcomes.update(_load_batch(con, entity, [incoming], load_id))
        for incoming in batch:
            outcome = outcomes[incoming.path]
            name = incoming.path.name
            if isinstance(outcome, FileRejected):
                summary.rejected[name] = str(outcome)
                con.execute(
                    "insert into ops.rejected_files (load_id, system, entity, file_name, reason) "
                    "values (?, ?, ?, ?, ?)",
                    [load_id, entity.system, entity.name, name, str(outcome)],
                )
                log(f"REJECTED {entity.system}/{name}: {outcome}")
                continue
            rows, reasons, extras = outcome
            summary.files_loaded += 1
            summary.rows_read += rows
            summary.rows_quarantined += sum(reasons.values())
            summary.quarantine_reasons.update(reasons)
            if extras:
                summary.schema_drift[name] = extras
        done += len(batch)
        log(f"{summary.entity}: {done}/{len(pending)} new file(s) done: {summary.progress()}")
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
