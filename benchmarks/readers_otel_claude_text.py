"""Throughput of the otel, claude and text readers on synthetic files, against raw orjson parsing of the same bytes.

No public data of these formats is in ../shared/data, so the inputs are generated here (in a temporary folder):

- otel: JSON Lines of OTLP exports, TRACES traces of TURNS chat spans each, every chat span resending the whole
  conversation so far (as GenAI instrumentations do), plus one execute_tool span per turn. The input therefore
  grows quadratically with TURNS, which is what the history de-duplication has to wade through.
- claude: one Claude Code session of ROWS rows (assistant tool_use / user tool_result pairs).
- text: one plain-text transcript of ROWS turns.

Figures: parse-only (orjson over every record, or splitting lines for text), reader (Trace objects out), best of
REPEATS. Run: .venv/bin/python benchmarks/readers_otel_claude_text.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import best_of, machine  # noqa: E402
from agentmortem.readers import ReadError, get_reader  # noqa: E402

TRACES, TURNS, ROWS, REPEATS = 40, 30, 20_000, 3


def _attr(key: str, value: object) -> dict[str, object]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def _span(trace: int, index: int, start: int, attrs: dict[str, object]) -> dict[str, object]:
    return {
        "traceId": f"{trace:032x}",
        "spanId": f"{index:016x}",
        "name": str(attrs["gen_ai.operation.name"]),
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 500),
        "attributes": [_attr(k, v) for k, v in attrs.items()],
    }


def otel_file(folder: Path) -> Path:
    """TRACES exports, each one trace of TURNS chat spans with growing history and a tool span per turn."""
    lines = []
    for trace in range(TRACES):
        history: list[dict[str, object]] = [{"role": "user", "parts": [{"type": "text", "content": "Diagnose."}]}]
        spans = []
        for turn in range(TURNS):
            call = {"type": "tool_call", "id": f"c{turn}", "name": "kubectl", "arguments": {"args": ["get", "pods"]}}
            output = [{"role": "assistant", "parts": [{"type": "text", "content": f"Step {turn}: look."}, call]}]
            chat = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 900}
            chat |= {"gen_ai.input.messages": orjson.dumps(history).decode()}
            chat |= {"gen_ai.output.messages": orjson.dumps(output).decode()}
            spans.append(_span(trace, 2 * turn, turn * 2000, chat))
            tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "kubectl"}
            tool |= {"gen_ai.tool.call.id": f"c{turn}", "gen_ai.tool.call.result": "pod-a Running\n" * 20}
            spans.append(_span(trace, 2 * turn + 1, turn * 2000 + 1000, tool))
            response = {"type": "tool_call_response", "id": f"c{turn}", "response": "pod-a Running\n" * 20}
            history += [*output, {"role": "tool", "parts": [response]}]
        lines.append(orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}))
    path = folder / "otel.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def claude_file(folder: Path) -> Path:
    """One Claude Code session of ROWS rows alternating tool_use and tool_result."""
    rows = []
    for i in range(ROWS // 2):
        common = {"parentUuid": None, "isSidechain": False, "sessionId": "s", "timestamp": "2025-11-03T09:00:00Z"}
        use = {"type": "tool_use", "id": f"t{i}", "name": "Bash", "input": {"command": f"ls {i}"}}
        usage = {"input_tokens": 5, "cache_read_input_tokens": 9000, "output_tokens": 30}
        message = {"id": f"m{i}", "role": "assistant", "model": "claude-x", "content": [use], "usage": usage}
        rows.append({**common, "type": "assistant", "uuid": f"a{i}", "message": message})
        result = {"type": "tool_result", "tool_use_id": f"t{i}", "content": "file\n" * 30}
        rows.append({**common, "type": "user", "uuid": f"u{i}", "message": {"role": "user", "content": [result]}})
    path = folder / "session.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    return path


def text_file(folder: Path) -> Path:
    """A transcript of ROWS turns, two lines each."""
    turns = [f"{'User' if i % 2 else 'Agent'}: turn {i}\ncontinued text for turn {i}\n" for i in range(ROWS)]
    path = folder / "chat.txt"
    path.write_text("".join(turns))
    return path


def parse_only(path: Path) -> None:
    """Raw cost of the bytes: orjson over every JSON line, or a line split for text."""
    data = path.read_bytes()
    if path.suffix == ".txt":
        data.decode().splitlines()
        return
    for line in data.split(b"\n"):
        if line.strip():
            orjson.loads(line)


def measure(fmt: str, path: Path) -> None:
    """Print parse-only and reader throughput for one file."""
    reader, errors = get_reader(fmt), list[ReadError]()
    traces = list(reader.read(path, errors))
    steps = sum(len(t.steps) for t in traces)
    size = path.stat().st_size / 1e6
    parse = best_of(lambda: parse_only(path), REPEATS)
    read = best_of(lambda: list(reader.read(path, [])), REPEATS)
    print(
        f"{fmt:6} {size:7.1f} MB {len(traces):4} traces {steps:7} steps | parse {size / parse:7.1f} MB/s | "
        f"reader {size / read:6.1f} MB/s, {steps / read:9.0f} steps/s ({read / parse:.1f}x parse), {len(errors)} errors"
    )


def main() -> None:
    """Generate the inputs, measure each reader, print the machine."""
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        measure("otel", otel_file(folder))
        measure("claude", claude_file(folder))
        measure("text", text_file(folder))


if __name__ == "__main__":
    main()
