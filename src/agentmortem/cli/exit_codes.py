"""Exit codes of every agentmortem command, defined here and nowhere else (the README's "Exit codes" lists them).

0 only when everything asked for was done. Click's own usage errors (an unknown option, a missing argument) also
exit with USAGE.
"""

from __future__ import annotations

OK = 0
"""Everything asked for was done (notes and warnings may still have been printed)."""

BAD_INPUT = 1
"""Some input could not be used: an unreadable trace or label file, a missing or busy store, a ground truth without
the run's scenario. What could be done was done; every problem was printed, one line each."""

USAGE = 2
"""The command line asks for something impossible: an unknown format, an option value out of range."""

FAILED_JUDGEMENTS = 3
"""`annotate` or `analyze` judged every trace it could, but the annotation of at least one trace failed (the
endpoint kept erring, the answers were unusable, the cost cap stopped it mid-trace). The summary says how many and
the report names them; the annotations were stored as failed and are tried again on the next run."""

ENDPOINT_UNUSABLE = 4
"""The LLM endpoint cannot serve the run, found by one cheap request before the first trace: connection refused,
DNS or TLS failure, the key refused or missing, no such model. Nothing was judged; the one line says what to fix."""

INTERRUPTED = 130
"""Stopped by Ctrl-C (SIGINT) or SIGTERM (128 + SIGINT, as shells report it). What was finished is stored,
nothing half-written is left behind, and running the same command again continues where this one stopped."""
