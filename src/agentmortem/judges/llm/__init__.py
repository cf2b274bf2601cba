"""The MAST LLM judge over any OpenAI-compatible chat-completions endpoint."""

from agentmortem.judges.llm.cache import AnswerCache, MemoryCache, RequestLog
from agentmortem.judges.llm.client import RetryPolicy
from agentmortem.judges.llm.cost import Price, PriceError, Usage, builtin_prices, load_prices, price_for
from agentmortem.judges.llm.judge import LLMJudge
from agentmortem.judges.llm.probe import EndpointUnusable
from agentmortem.judges.llm.prompt import PROMPT_VERSION

__all__ = [
    "PROMPT_VERSION",
    "AnswerCache",
    "EndpointUnusable",
    "LLMJudge",
    "MemoryCache",
    "Price",
    "PriceError",
    "RequestLog",
    "RetryPolicy",
    "Usage",
    "builtin_prices",
    "load_prices",
    "price_for",
]
