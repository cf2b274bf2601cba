"""Default values the command line shows in `--help` and the library uses, in a module that imports nothing.

Each value belongs to the part of the library it configures, which re-exports it under the same name; it is
defined here so that `agentmortem --help` can print it without importing that part (DuckDB, scipy, the OpenAI
client, pydantic models). Add a default here only when a CLI option shows it.
"""

from __future__ import annotations

import os

# -- store ------------------------------------------------------------------------------------------------------

DEFAULT_DB = "agentmortem.duckdb"
DB_ENV_VAR = "AGENTMORTEM_DB"


def default_db_path() -> str:
    """The store path: $AGENTMORTEM_DB when set, else ./agentmortem.duckdb."""
    return os.environ.get(DB_ENV_VAR) or DEFAULT_DB


# -- outcomes ---------------------------------------------------------------------------------------------------

DEFAULT_SUCCESS_THRESHOLD = 0.5
"""Score at or above which a run counts as successful. ITBench scores are root-cause recall in [0, 1]; almost every
scenario has a single root-cause group (46 of them across the 44 published scenarios), so recall is 0 or 1 and any
threshold in (0, 1] splits runs the same way. 0.5 settles the few multi-root scenarios as "found at least half of
the root causes", and reads 0–1 rewards from other benchmarks as pass-at-half."""

# -- engines ----------------------------------------------------------------------------------------------------

DEFAULT_CONCURRENCY = 16
"""Traces (local engine: requests) judged at once."""

DEFAULT_WORKERS = 2
"""Ray engine: shards judged at once."""

# -- report settings (analysis/build.py, report/report.py `ReportSettings`) -------------------------------------

DEFAULT_ISOLATED_MAX = 3
"""A failed trace with 1..N distinct modes is an isolated failure."""

DEFAULT_CASCADING_MIN = 4
"""A failed trace with at least N distinct modes is a cascade."""

DEFAULT_MAX_DRILLDOWN = 200
"""At most this many traces in the report's drill-down."""

# -- agreement --------------------------------------------------------------------------------------------------

DEFAULT_BOOTSTRAP = 1000
"""Bootstrap resamples of traces for the kappa intervals."""

DEFAULT_SEED = 0
"""Random seed of the agreement bootstrap."""

DEFAULT_TOLERANCE = 1
"""Steps either side of a reference step that still count as a hit for the `_within` figures."""
