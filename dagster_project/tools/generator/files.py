"""Where each entity's rows go (folder, file name, header) and the writer of the extract files.

Files are named ``<entity>_<YYYY-MM-DD>.<ext>`` (the extract date). An extract with no rows for
an entity writes no file (the warehouse rejects empty and header-only files).
"""
from __future__ import annotations

from dagster_project.defs.ingest.contract import ENTITIES as CONTRACT_ENTITIES
from dagster_project.defs.ingest.contract import Entity

from .run import day_str


def _header(entity: Entity) -> list[str]:
    """A CSV file's header: the contract's columns. For JSON Lines (no header line) the top-level
    keys of a line, in contract order: ``$.requester.name`` is under ``requester``."""
    if entity.file_format != "jsonl":
        return list(entity.columns)
    keys = (entity.json_paths[c].split(".")[1] for c in entity.columns)
    return list(dict.fromkeys(keys))


# everything below is read from the contract (dagster_project/defs/ingest/contract.py)
ENTITIES = tuple(e.name for e in CONTRACT_ENTITIES)
FOLDER = {e.name: e.system for e in CONTRACT_ENTITIES}  # the loader reads <source dir>/<system>/
EXT = {e.name: e.extension for e in CONTRACT_ENTITIES}
HEADERS = {e.name: _header(e) for e in CONTRACT_ENTITIES}


def write_extracts(run, con, chunk_rows=1_000_000):
    """Write the rendered tables out_<entity>(xd, seq, line) as extract files.

    Rows are concatenated per extract in DuckDB (ordered by seq), one write per chunk."""
    for folder in sorted(set(FOLDER.values())):
        (run.out / folder).mkdir(parents=True, exist_ok=True)
    for ent in ENTITIES:
        paths = {d: run.out / FOLDER[ent] / f"{ent}_{day_str(d)}.{EXT[ent]}" for d in run.extract_days}
        head = b"" if EXT[ent] == "jsonl" else (",".join(HEADERS[ent]) + "\n").encode()
        for p in paths.values():  # an extract with nothing changed gets no file (an empty one is rejected)
            p.unlink(missing_ok=True)
        started = set()
        n = run.counts[ent]["rows"]
        for a in range(0, n, chunk_rows):
            b = min(a + chunk_rows, n) - 1
            res = con.execute(
                f"SELECT xd, encode(string_agg(line, chr(10) ORDER BY seq)) FROM out_{ent} "
                f"WHERE seq BETWEEN {a} AND {b} GROUP BY xd ORDER BY xd").fetchall()
            for xd, blob in res:
                with open(paths[int(xd)], "ab") as f:
                    if xd not in started:
                        f.write(head)
                        started.add(xd)
                    f.write(blob)
                    f.write(b"\n")
            del res
        con.execute(f"DROP TABLE out_{ent}")
        run.counts[ent]["files"] = len(started)
        run.progress(f"wrote {ent}: {n:,} rows in {len(started)} files")
