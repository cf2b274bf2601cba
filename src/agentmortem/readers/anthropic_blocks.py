"""Anthropic Messages content blocks turned into raw steps (shared by the Claude Code and Messages readers).

A message's `content` is a string or a list of blocks:

- `text` → a message step in the speaker's role.
- `thinking` → a message step with `source_type` ending in `:thinking` (the model's extended thinking, kept so
  judges can read the reasoning but told apart from what it said); `redacted_thinking` → a placeholder step.
- `tool_use` (and the server-side `server_tool_use` / `mcp_tool_use`) → a tool_call; `tool_args` is the JSON of
  `input`, `call_id` its `id`.
- `tool_result` (and `*_tool_result` server blocks) → a tool_result paired by `tool_use_id`; its content is a
  string or blocks (text kept, images as a placeholder); `is_error` as given.
- `image` / `document` → a placeholder message step, so the turn is not lost.
"""

from __future__ import annotations

from typing import Any

import orjson

from agentmortem.readers.jsonio import as_text

RawStep = dict[str, Any]

_CALL_BLOCKS = {"tool_use", "server_tool_use", "mcp_tool_use"}


def content_steps(role: str, content: Any, *, source: str) -> list[RawStep]:
    """Raw steps for one message's `content` (string or block list) spoken by `role`."""
    if isinstance(content, str):
        return [_message(role, content, source)] if content else []
    if not isinstance(content, list):
        return [] if content is None else [_message(role, as_text(content), source)]
    steps: list[RawStep] = []
    for block in content:
        step = block_step(role, block, source=source)
        if step is not None:
            steps.append(step)
    return steps


def block_step(role: str, block: Any, *, source: str) -> RawStep | None:
    """The raw step for one content block, or None for a block that carries nothing to read."""
    if isinstance(block, str):
        return _message(role, block, source)
    if not isinstance(block, dict):
        return None
    kind = str(block.get("type", ""))
    if kind == "text":
        return _message(role, as_text(block.get("text")), source)
    if kind == "thinking":
        return _message(role, as_text(block.get("thinking")), source + ":thinking")
    if kind == "redacted_thinking":
        return _message(role, "[redacted thinking]", source + ":thinking")
    if kind in _CALL_BLOCKS:
        return _tool_call(block, source)
    if kind == "tool_result" or kind.endswith("_tool_result"):
        return _tool_result(block, source)
    if kind in ("image", "document"):
        return _message(role, f"[{kind}]", source)
    return None


def _message(role: str, text: str, source: str) -> RawStep:
    kind = "system" if role == "system" else "message"
    return {"kind": kind, "role": role, "content": text, "source_type": source}


def _tool_call(block: dict[str, Any], source: str) -> RawStep:
    arguments = block.get("input")
    return {
        "kind": "tool_call",
        "role": "assistant",
        "tool_name": as_text(block.get("name")) or None,
        "tool_args": None if arguments is None else orjson.dumps(arguments).decode(),
        "call_id": as_text(block.get("id")) or None,
        "source_type": f"{source}:{block.get('type')}",
    }


def _tool_result(block: dict[str, Any], source: str) -> RawStep:
    return {
        "kind": "tool_result",
        "role": "tool",
        "content": result_text(block.get("content")),
        "call_id": as_text(block.get("tool_use_id")) or None,
        "is_error": bool(block.get("is_error")),
        "source_type": f"{source}:{block.get('type')}",
    }


def result_text(content: Any) -> str:
    """A tool_result's content as text: a string, or its blocks' text with placeholders for media."""
    if not isinstance(content, list):
        return as_text(content)
    pieces: list[str] = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "text":
            pieces.append(as_text(block.get("text")))
        elif isinstance(block, dict):
            pieces.append(f"[{block.get('type', 'block')}]")
        else:
            pieces.append(as_text(block))
    return "\n".join(pieces)


def text_of(content: Any) -> str:
    """Plain text of a `system` value or message content: a string, or its text blocks joined."""
    if isinstance(content, list):
        return "\n".join(as_text(b.get("text")) for b in content if isinstance(b, dict) and b.get("type") == "text")
    return as_text(content)
