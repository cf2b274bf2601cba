"""An offline, conservative token estimate: no tokenizer files, no downloads, never fewer tokens than a real BPE.

BPE tokenizers of current chat models (cl100k/o200k-style) average about 4 characters per token on English prose
and 3 to 3.5 on JSON, shell output and code; every non-ASCII character costs at most about one token. We count 3
ASCII characters per token and one token per other character, plus a small per-message overhead, so the estimate
errs on the side of more tokens and a request sized by it fits the real context window.
"""

from __future__ import annotations

import math

ASCII_CHARS_PER_TOKEN = 3.0
MESSAGE_OVERHEAD = 8
"""Tokens a chat template adds around each message (role markers, separators), rounded up."""


def estimate_tokens(text: str) -> int:
    """Conservative token count of `text`."""
    if not text:
        return 0
    if text.isascii():
        return math.ceil(len(text) / ASCII_CHARS_PER_TOKEN)
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return math.ceil((len(text) - non_ascii) / ASCII_CHARS_PER_TOKEN) + non_ascii


def estimate_messages(messages: list[dict[str, str]]) -> int:
    """Conservative token count of a chat request's messages."""
    return sum(estimate_tokens(m.get("content", "")) + MESSAGE_OVERHEAD for m in messages)
