"""Ctrl-C and SIGTERM on the command line: one line, exit 130, no traceback, nothing half-written.

A long run (ingest, annotate, analyze) runs inside `on_interrupt`. SIGTERM is turned into the KeyboardInterrupt
that Ctrl-C raises, so both take the same way out: the store's transactions roll back what was half-written, and
the line the command set in the `Tally` is printed. The judging engine catches both signals itself while it runs
(engines/local.py) so it can store what it has before returning; this is the way out everywhere else.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import NoReturn

import typer

from agentmortem.cli import exit_codes
from agentmortem.cli.app import err_console


def interrupted_line(saved: int, in_flight: int) -> str:
    """The one line an interrupted judging run ends with."""
    return f"interrupted: {saved} annotations saved, {in_flight} in flight discarded; run again to continue"


@dataclass
class Tally:
    """What an interrupted command has to say; the command updates it as it goes."""

    saved: int | None = 0
    """Annotations stored by this run; None when they are not counted here (the Ray engine's workers store them)."""
    in_flight: int = 0
    ingesting: bool = False

    def line(self) -> str:
        """The line printed on an interrupt."""
        if self.ingesting:
            return "interrupted while reading traces: nothing half-written was kept; run again to continue"
        if self.saved is None:
            return "interrupted: annotations already saved are kept, those in flight discarded; run again to continue"
        return interrupted_line(self.saved, self.in_flight)


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def on_interrupt(tally: Tally) -> Iterator[Tally]:
    """Inside: SIGTERM acts as Ctrl-C; either ends the command with `tally.line()` and exit code 130."""
    main = threading.current_thread() is threading.main_thread()
    former = signal.signal(signal.SIGTERM, _raise_interrupt) if main else None
    try:
        yield tally
    except KeyboardInterrupt:
        stop_interrupted(tally)
    finally:
        if main:
            signal.signal(signal.SIGTERM, former if former is not None else signal.SIG_DFL)


def stop_interrupted(tally: Tally) -> NoReturn:
    """Print the tally's line and exit with INTERRUPTED."""
    err_console.print(tally.line(), highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(exit_codes.INTERRUPTED)
