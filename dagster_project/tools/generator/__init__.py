"""Deterministic, vectorised generator of realistic source extracts.

Produces the three source systems' extract folders that the warehouse ingests:

* ``sales/``   ERP: customers, products, orders, order_lines (CSV)
* ``service/`` help desk: tickets (JSON Lines)
* ``survey/``  survey tool: responses (CSV)

Files are named ``<entity>_<YYYY-MM-DD>.<ext>`` (the extract date).  Every
extract date gets one file per entity that changed in it; an extract with no
rows for an entity writes no file (the warehouse rejects empty and header-only files).

Design
------
All randomness is drawn with numpy (``default_rng(seed).spawn``), one stream per
stage, fully vectorised (no Python loop per row; sorts use packed int64 keys
with a stable sort).  DuckDB is used only for deterministic string work: every
output row is rendered once as its final text (RFC 4180 CSV record or compact
JSON object) and rows are concatenated per extract with an ordered
``string_agg`` (total order on ``seq``); Python only writes the resulting bytes,
one write per file chunk.  Same arguments therefore give byte-identical output.

Each record *version* (a state of a record with its ``updated_at``) is written
to the first extract dated on or after the UTC date of its ``updated_at``.  An
extract behaves like an incremental "changed since last run" query: when a
record changed several times between two extracts only its latest state is
exported.  Order lines go with the first export of their order; responses go
with their ``submitted_at``.  With ``full_dump_until=D0`` every version dated
<= D0 is collapsed into one initial extract dated D0.

Bad rows (rate ``bad_row_rate``) corrupt existing rows in place (the row count
is unchanged), except ``duplicate`` which appends an exact repeat of a survey
response in the same file.

The files' layout, columns, JSON paths and enum values are read from the source
contract (``dagster_project/defs/ingest/contract.py``); the names below that repeat
them (ORDER_STATUS, T_*, ENTITIES, FOLDER, EXT, HEADERS) are the contract's data.

Modules, in the order a run uses them
-------------------------------------
``run``        the window, extract dates, random streams, progress log
``customers``  customer profiles and versions (ERP customer master)
``orders``     products, orders, order lines (ERP)
``service``    help-desk tickets
``surveys``    survey responses
``contacts``   who a ticket or response comes from, and how they write their details
``people``     name / email / phone vocabularies and their SQL renderings
``messiness``  the bad rows injected (BAD_KINDS)
``render``     SQL text helpers shared by the renderers (CSV records, money, timestamps)
``files``      folders, file names, headers; the writer
``pipeline``   generate(): the stages in order
``cli``        the ``c360 generate`` sub-command
"""
from __future__ import annotations

from dagster_project.defs.ingest.contract import ORDER_STATUSES as ORDER_STATUS
from dagster_project.defs.ingest.contract import TICKET_CHANNELS as T_CHANNELS
from dagster_project.defs.ingest.contract import TICKET_PRIORITIES as T_PRIORITIES
from dagster_project.defs.ingest.contract import TICKET_STATUSES as T_STATUS
from dagster_project.defs.ingest.contract import TICKET_TYPES as T_TYPES

from .cli import register, run_from_args
from .files import ENTITIES, EXT, FOLDER, HEADERS
from .messiness import BAD_KIND_NAMES, BAD_KINDS
from .pipeline import generate

__all__ = [
    "BAD_KINDS", "BAD_KIND_NAMES", "ENTITIES", "EXT", "FOLDER", "HEADERS", "ORDER_STATUS",
    "T_CHANNELS", "T_PRIORITIES", "T_STATUS", "T_TYPES", "generate", "register", "run_from_args",
]
