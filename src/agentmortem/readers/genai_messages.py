"""Chat messages as telemetry carries them, turned into raw steps.

Three shapes reach this module, all normalised to one list of raw step dicts (the keyword arguments of `Step`):

- OpenTelemetry GenAI messages (`gen_ai.input.messages`, `gen_ai.output.messages`): `{"role", "parts": [...]}`
  with parts `text`, `tool_call` (id, name, arguments), `tool_call_response` (id, response), `reasoning`, and
  media parts (`blob`, `uri`, `file`) that are kept as a short placeholder.
- Chat-completions style messages, used by the older GenAI event bodies and by OpenInference once unflattened:
  `{"role", "content", "tool_calls": [{"id", "function": {"name", "arguments"}}], "tool_call_id", "name"}`.
- OpenInference's flattened attributes (`llm.input_messages.0.message.role` …), rebuilt by `unflatten_messages`,
  and OpenLLMetry's (`gen_ai.prompt.0.role`, `gen_ai.completion.0.tool_calls.0.name` …), by `unflatten_openllmetry`.
- Google GenAI `Content` objects as ADK dumps them (`{"role": "user" | "model", "parts": [{"text"},
  {"function_call"}, {"function_response"}]}`), by `genai_content_steps`.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from agentmortem.readers.jsonio import as_text

RawStep = dict[str, Any]

_SYSTEM_ROLES = {"system", "developer"}
_FLAT_KEY = re.compile(r"^(\d+)\.message\.(.+)$")
_FLAT_TOOL_CALL = re.compile(r"^tool_calls\.(\d+)\.tool_call\.(.+)$")
_FLAT_CONTENT = re.compile(r"^contents\.(\d+)\.message_content\.(.+)$")
_LLMETRY_KEY = re.compile(r"^(\d+)\.(.+)$")
_LLMETRY_TOOL_CALL = re.compile(r"^tool_calls\.(\d+)\.(id|name|arguments)$")
_GENAI_ROLES = {"model": "assistant"}


def parse_json_attr(value: Any) -> Any:
    """An attribute that holds JSON text (GenAI message attributes do), decoded; other values unchanged."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def message_steps(message: Any, *, source: str) -> list[RawStep]:
    """Raw steps for one message in either GenAI-parts or chat-completions shape (non-dicts give no steps)."""
    message = parse_json_attr(message)
    if not isinstance(message, dict):
        return [] if message in (None, "") else [_text_step("user", as_text(message), source)]
    role = str(message.get("role") or "assistant")
    name = message.get("name") if isinstance(message.get("name"), str) else None
    if isinstance(message.get("parts"), list):
        steps = _parts_steps(role, message["parts"], source)
    else:
        steps = _chat_steps(role, message, source)
    for step in steps:
        step.setdefault("agent", name)
    return steps


def _parts_steps(role: str, parts: list[Any], source: str) -> list[RawStep]:
    steps: list[RawStep] = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            steps.append(_text_step(role, as_text(part.get("content")), source))
        elif kind == "tool_call":
            steps.append(_call_step(part.get("id"), part.get("name"), part.get("arguments"), source))
        elif kind == "tool_call_response":
            steps.append(_result_step(part.get("id"), None, part.get("response"), source))
        elif kind == "reasoning":
            steps.append(_text_step(role, as_text(part.get("content")), source + ":reasoning"))
        elif kind == "refusal":
            steps.append(_text_step(role, as_text(part.get("content")), source + ":refusal"))
        elif kind in ("blob", "uri", "file"):
            steps.append(_text_step(role, f"[{part.get('modality') or kind} {kind}]", source))
    return steps


def _chat_steps(role: str, message: dict[str, Any], source: str) -> list[RawStep]:
    text = _content_text(message.get("content"))
    if role == "tool":
        call_id = message.get("tool_call_id") or message.get("id")
        return [_result_step(call_id, message.get("name"), text, source)]
    steps = [_text_step(role, text, source)] if text else []
    for call in _as_list(parse_json_attr(message.get("tool_calls"))):
        if isinstance(call, dict):
            function = parse_json_attr(call.get("function")) or {}
            name = function.get("name") if isinstance(function, dict) else None
            args = function.get("arguments") if isinstance(function, dict) else None
            steps.append(_call_step(call.get("id"), name or call.get("name"), args, source))
    return steps


def _content_text(content: Any) -> str:
    """Text of a chat-completions `content`: a string, or a list of `{"type": "text", "text"}` pieces."""
    content = parse_json_attr(content)
    if isinstance(content, list):
        pieces = [p.get("text") or p.get("content") or "" for p in content if isinstance(p, dict)]
        return "\n".join(str(p) for p in pieces if p)
    return as_text(content)


def _text_step(role: str, text: str, source: str) -> RawStep:
    kind = "system" if role in _SYSTEM_ROLES else "message"
    return {"kind": kind, "role": role, "content": text, "source_type": source}


def _call_step(call_id: Any, name: Any, arguments: Any, source: str) -> RawStep:
    args = arguments if isinstance(arguments, str) else (None if arguments is None else as_text(arguments))
    return {
        "kind": "tool_call",
        "role": "assistant",
        "tool_name": str(name) if name else None,
        "tool_args": args,
        "call_id": str(call_id) if call_id else None,
        "source_type": source,
    }


def _result_step(call_id: Any, name: Any, response: Any, source: str) -> RawStep:
    return {
        "kind": "tool_result",
        "role": "tool",
        "content": as_text(response),
        "tool_name": str(name) if name else None,
        "call_id": str(call_id) if call_id else None,
        "source_type": source,
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def unflatten_messages(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Rebuild chat-completions messages from OpenInference's flattened `prefix.N.message.*` attributes."""
    flat: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        if key.startswith(prefix):
            match = _FLAT_KEY.match(key[len(prefix) :])
            if match:
                flat.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [_flat_message(flat[index]) for index in sorted(flat)]


def _flat_message(fields: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {k: fields[k] for k in ("role", "content", "name", "tool_call_id") if k in fields}
    calls: dict[int, dict[str, Any]] = {}
    contents: dict[int, str] = {}
    for key, value in fields.items():
        if call := _FLAT_TOOL_CALL.match(key):
            call_fields = calls.setdefault(int(call.group(1)), {"function": {}})
            if call.group(2) == "id":
                call_fields["id"] = value
            else:
                call_fields["function"][call.group(2).removeprefix("function.")] = value
        elif (piece := _FLAT_CONTENT.match(key)) and piece.group(2) == "text":
            contents[int(piece.group(1))] = as_text(value)
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    if contents and not message.get("content"):
        message["content"] = "\n".join(contents[i] for i in sorted(contents))
    return message


def unflatten_openllmetry(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Rebuild chat-completions messages from OpenLLMetry's flattened `prefix.N.role/content/tool_calls.M.*`."""
    flat: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        if key.startswith(prefix) and (match := _LLMETRY_KEY.match(key[len(prefix) :])):
            flat.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [_llmetry_message(flat[index]) for index in sorted(flat)]


def _llmetry_message(fields: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {k: fields[k] for k in ("role", "content", "name", "tool_call_id") if k in fields}
    if "content" not in message and "refusal" in fields:
        message["content"] = fields["refusal"]
    calls: dict[int, dict[str, Any]] = {}
    for key, value in fields.items():
        if call := _LLMETRY_TOOL_CALL.match(key):
            entry = calls.setdefault(int(call.group(1)), {"function": {}})
            if call.group(2) == "id":
                entry["id"] = value
            else:
                entry["function"][call.group(2)] = value
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    message.setdefault("role", "assistant")
    return message


def genai_content_steps(content: Any, *, source: str) -> list[RawStep]:
    """Raw steps for one Google GenAI `Content` (snake_case as ADK dumps it, or the camelCase API spelling)."""
    if not isinstance(content, dict):
        return []
    role = _GENAI_ROLES.get(str(content.get("role") or "model"), str(content.get("role")))
    steps: list[RawStep] = []
    for part in _as_list(content.get("parts")):
        if not isinstance(part, dict):
            continue
        call = part.get("function_call") or part.get("functionCall")
        response = part.get("function_response") or part.get("functionResponse")
        if isinstance(call, dict):
            steps.append(_call_step(call.get("id"), call.get("name"), call.get("args"), source))
        elif isinstance(response, dict):
            steps.append(_result_step(response.get("id"), response.get("name"), response.get("response"), source))
        elif part.get("text"):
            suffix = ":reasoning" if part.get("thought") else ""
            steps.append(_text_step(role, as_text(part["text"]), source + suffix))
    return steps


def genai_system_instruction(value: Any) -> str:
    """Text of a Google GenAI `system_instruction`: a string, a `Content`, or a list of parts or strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        value = value.get("parts", [])
    if isinstance(value, list):
        texts = [p if isinstance(p, str) else p.get("text", "") for p in value if isinstance(p, str | dict)]
        return "\n".join(t for t in texts if t)
    return ""
