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

ENDPOINT_UNUSABLE = 4
"""The LLM endpoint cannot serve the run, found by one cheap request before the first trace: connection refused,
DNS or TLS failure, the key refused or missing, no such model. Nothing was judged; the one line says what to fix."""
