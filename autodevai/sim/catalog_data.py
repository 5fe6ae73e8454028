"""The simulator's table of well-known models: public OpenRouter prices and context lengths, plus our latency
and accuracy assumptions.

Prices are USD per million tokens as OpenRouter listed them (best public knowledge; the catalog converts them
to USD per token strings). ``ttft`` (seconds to first token), ``tps`` (output tokens per second) and ``acc``
(the probability of answering a checkable task right) are the simulator's own assumptions, ordered like public
benchmarks: bigger and reasoning models answer better, small ones are fast and cheap. Flags: ``v`` image
input, ``t`` tools, ``r`` reasoning, ``s`` structured outputs (json_schema), ``f`` file input, ``a`` audio input,
``i`` image output. Rows here carry ``v``/``t``/``r`` (and ``s``/``i`` where no rule covers them); the catalog
derives ``s``, ``f`` and ``a`` for well-known families by rule (``catalog.derived_flags``).
"""

# ruff: noqa: E501  -- one model per line reads better than wrapped rows in this table
from __future__ import annotations

from typing import NamedTuple

__all__ = ["FREE_VARIANTS", "GENERATED_FAMILIES", "GENERATED_VENDORS", "KNOWN", "VENDOR_NAMES", "Row"]


class Row(NamedTuple):
    id: str
    name: str
    price_in: float  # USD per million prompt tokens
    price_out: float  # USD per million completion tokens
    context: int
    max_out: int | None
    created: int
    ttft: float
    tps: float
    acc: float
    flags: str = ""
    request: float = 0.0  # USD per request (e.g. web search models)


# fmt: off
KNOWN: tuple[Row, ...] = (
    Row("openai/gpt-4o", "OpenAI: GPT-4o", 2.5, 10, 128000, 16384, 1715558400, 0.45, 95, 0.94, "vt"),
    Row("openai/gpt-4o-2024-11-20", "OpenAI: GPT-4o (2024-11-20)", 2.5, 10, 128000, 16384, 1732060800, 0.45, 95, 0.94, "vt"),
    Row("openai/gpt-4o-2024-08-06", "OpenAI: GPT-4o (2024-08-06)", 2.5, 10, 128000, 16384, 1722902400, 0.45, 90, 0.93, "vt"),
    Row("openai/gpt-4o-2024-05-13", "OpenAI: GPT-4o (2024-05-13)", 5, 15, 128000, 4096, 1715558400, 0.5, 85, 0.93, "vt"),
    Row("openai/gpt-4o-mini", "OpenAI: GPT-4o-mini", 0.15, 0.6, 128000, 16384, 1721260800, 0.35, 110, 0.86, "vt"),
    Row("openai/gpt-4o-mini-2024-07-18", "OpenAI: GPT-4o-mini (2024-07-18)", 0.15, 0.6, 128000, 16384, 1721260800, 0.35, 110, 0.86, "vt"),
    Row("openai/chatgpt-4o-latest", "OpenAI: ChatGPT-4o", 5, 15, 128000, 16384, 1723593600, 0.5, 90, 0.94, "v"),
    Row("openai/gpt-4.1", "OpenAI: GPT-4.1", 2, 8, 1047576, 32768, 1744651385, 0.5, 90, 0.95, "vt"),
    Row("openai/gpt-4.1-mini", "OpenAI: GPT-4.1 Mini", 0.4, 1.6, 1047576, 32768, 1744651381, 0.4, 120, 0.9, "vt"),
    Row("openai/gpt-4.1-nano", "OpenAI: GPT-4.1 Nano", 0.1, 0.4, 1047576, 32768, 1744651369, 0.3, 160, 0.8, "vt"),
    Row("openai/gpt-4.5-preview", "OpenAI: GPT-4.5 (Preview)", 75, 150, 128000, 16384, 1740687810, 1.0, 30, 0.96, "vt"),
    Row("openai/o1", "OpenAI: o1", 15, 60, 200000, 100000, 1734459999, 6.0, 80, 0.98, "vrt"),
    Row("openai/o1-mini", "OpenAI: o1-mini", 1.1, 4.4, 128000, 65536, 1726099200, 3.0, 120, 0.95, "r"),
    Row("openai/o3-mini", "OpenAI: o3 Mini", 1.1, 4.4, 200000, 100000, 1738351721, 2.5, 150, 0.97, "rt"),
    Row("openai/o3-mini-high", "OpenAI: o3 Mini High", 1.1, 4.4, 200000, 100000, 1739372611, 4.0, 150, 0.98, "rt"),
    Row("openai/o3", "OpenAI: o3", 2, 8, 200000, 100000, 1744823457, 5.0, 70, 0.98, "vrt"),
    Row("openai/o4-mini", "OpenAI: o4 Mini", 1.1, 4.4, 200000, 100000, 1744820942, 3.0, 130, 0.97, "vrt"),
    Row("openai/gpt-4-turbo", "OpenAI: GPT-4 Turbo", 10, 30, 128000, 4096, 1712620800, 0.7, 40, 0.9, "vt"),
    Row("openai/gpt-4", "OpenAI: GPT-4", 30, 60, 8191, 4096, 1685232000, 0.8, 25, 0.88, "t"),
    Row("openai/gpt-3.5-turbo", "OpenAI: GPT-3.5 Turbo", 0.5, 1.5, 16385, 4096, 1685232000, 0.3, 120, 0.72, "t"),
    Row("openai/gpt-3.5-turbo-instruct", "OpenAI: GPT-3.5 Turbo Instruct", 1.5, 2, 4095, 4096, 1695859200, 0.3, 120, 0.65),
    Row("anthropic/claude-3.5-sonnet", "Anthropic: Claude 3.5 Sonnet", 3, 15, 200000, 8192, 1729555200, 0.9, 60, 0.95, "vt"),
    Row("anthropic/claude-3.5-sonnet-20240620", "Anthropic: Claude 3.5 Sonnet (2024-06-20)", 3, 15, 200000, 8192, 1718841600, 0.9, 60, 0.94, "vt"),
    Row("anthropic/claude-3.7-sonnet", "Anthropic: Claude 3.7 Sonnet", 3, 15, 200000, 64000, 1740422110, 1.0, 60, 0.96, "vt"),
    Row("anthropic/claude-3.7-sonnet:thinking", "Anthropic: Claude 3.7 Sonnet (thinking)", 3, 15, 200000, 64000, 1740422110, 3.5, 60, 0.97, "vrt"),
    Row("anthropic/claude-3.5-haiku", "Anthropic: Claude 3.5 Haiku", 0.8, 4, 200000, 8192, 1730678400, 0.6, 80, 0.87, "t"),
    Row("anthropic/claude-3-haiku", "Anthropic: Claude 3 Haiku", 0.25, 1.25, 200000, 4096, 1710288000, 0.5, 120, 0.78, "vt"),
    Row("anthropic/claude-3-opus", "Anthropic: Claude 3 Opus", 15, 75, 200000, 4096, 1709596800, 1.8, 25, 0.94, "vt"),
    Row("anthropic/claude-sonnet-4", "Anthropic: Claude Sonnet 4", 3, 15, 200000, 64000, 1747930371, 1.0, 60, 0.97, "vt"),
    Row("anthropic/claude-opus-4", "Anthropic: Claude Opus 4", 15, 75, 200000, 32000, 1747931245, 1.6, 35, 0.98, "vt"),
    Row("google/gemini-2.0-flash-001", "Google: Gemini 2.0 Flash", 0.1, 0.4, 1048576, 8192, 1738769413, 0.35, 180, 0.89, "vt"),
    Row("google/gemini-2.0-flash-lite-001", "Google: Gemini 2.0 Flash Lite", 0.075, 0.3, 1048576, 8192, 1740506212, 0.3, 200, 0.84, "vt"),
    Row("google/gemini-2.0-flash-exp:free", "Google: Gemini 2.0 Flash Experimental (free)", 0, 0, 1048576, 8192, 1733937523, 0.7, 100, 0.88, "vt"),
    Row("google/gemini-1.5-pro", "Google: Gemini 1.5 Pro", 1.25, 5, 2000000, 8192, 1712620800, 0.8, 60, 0.91, "vt"),
    Row("google/gemini-1.5-flash", "Google: Gemini 1.5 Flash", 0.075, 0.3, 1000000, 8192, 1715644800, 0.35, 170, 0.82, "vt"),
    Row("google/gemini-1.5-flash-8b", "Google: Gemini 1.5 Flash 8B", 0.0375, 0.15, 1000000, 8192, 1727913600, 0.3, 220, 0.75, "vt"),
    Row("google/gemini-2.5-pro", "Google: Gemini 2.5 Pro", 1.25, 10, 1048576, 65536, 1750169544, 3.0, 90, 0.98, "vrt"),
    Row("google/gemini-2.5-flash", "Google: Gemini 2.5 Flash", 0.3, 2.5, 1048576, 65535, 1750172488, 0.6, 180, 0.94, "vrt"),
    Row("google/gemini-2.5-flash-image-preview", "Google: Gemini 2.5 Flash Image Preview (Nano Banana)", 0.3, 2.5, 32768, 8192, 1756166400, 0.8, 120, 0.9, "vsi"),
    Row("google/gemini-2.5-flash-image", "Google: Nano Banana (Gemini 2.5 Flash Image)", 0.3, 2.5, 32768, 8192, 1759870431, 0.8, 120, 0.9, "vsi"),
    Row("google/gemma-2-9b-it", "Google: Gemma 2 9B", 0.03, 0.06, 8192, 8192, 1719532800, 0.3, 150, 0.62),
    Row("google/gemma-2-27b-it", "Google: Gemma 2 27B", 0.27, 0.27, 8192, 2048, 1720828800, 0.4, 80, 0.7),
    Row("google/gemma-3-27b-it", "Google: Gemma 3 27B", 0.1, 0.2, 131072, 16384, 1741756359, 0.4, 70, 0.78, "v"),
    Row("google/gemma-3-12b-it", "Google: Gemma 3 12B", 0.05, 0.1, 131072, 8192, 1741902625, 0.35, 100, 0.72, "v"),
    Row("google/gemma-3-4b-it", "Google: Gemma 3 4B", 0.02, 0.04, 131072, 8192, 1741905510, 0.3, 150, 0.62, "v"),
    Row("meta-llama/llama-3.1-8b-instruct", "Meta: Llama 3.1 8B Instruct", 0.02, 0.05, 131072, 16384, 1721692800, 0.25, 200, 0.62, "t"),
    Row("meta-llama/llama-3.1-70b-instruct", "Meta: Llama 3.1 70B Instruct", 0.12, 0.3, 131072, 16384, 1721692800, 0.45, 70, 0.82, "t"),
    Row("meta-llama/llama-3.1-405b-instruct", "Meta: Llama 3.1 405B Instruct", 0.8, 0.8, 32768, 16384, 1721692800, 0.7, 35, 0.88, "t"),
    Row("meta-llama/llama-3.3-70b-instruct", "Meta: Llama 3.3 70B Instruct", 0.12, 0.3, 131072, 16384, 1733506137, 0.45, 75, 0.84, "t"),
    Row("meta-llama/llama-3.2-1b-instruct", "Meta: Llama 3.2 1B Instruct", 0.01, 0.01, 131072, 16384, 1727222400, 0.2, 300, 0.4),
    Row("meta-llama/llama-3.2-3b-instruct", "Meta: Llama 3.2 3B Instruct", 0.015, 0.025, 131072, 16384, 1727222400, 0.2, 250, 0.5, "t"),
    Row("meta-llama/llama-3.2-11b-vision-instruct", "Meta: Llama 3.2 11B Vision Instruct", 0.049, 0.049, 131072, 16384, 1727222400, 0.3, 150, 0.6, "v"),
    Row("meta-llama/llama-3.2-90b-vision-instruct", "Meta: Llama 3.2 90B Vision Instruct", 1.2, 1.2, 131072, 2048, 1727222400, 0.6, 40, 0.8, "v"),
    Row("meta-llama/llama-3-8b-instruct", "Meta: Llama 3 8B Instruct", 0.03, 0.06, 8192, 8192, 1713398400, 0.25, 180, 0.55),
    Row("meta-llama/llama-3-70b-instruct", "Meta: Llama 3 70B Instruct", 0.3, 0.4, 8192, 8192, 1713398400, 0.45, 60, 0.78),
    Row("meta-llama/llama-4-maverick", "Meta: Llama 4 Maverick", 0.15, 0.6, 1048576, 16384, 1743881822, 0.4, 120, 0.88, "vt"),
    Row("meta-llama/llama-4-scout", "Meta: Llama 4 Scout", 0.08, 0.3, 1048576, 16384, 1743881519, 0.35, 140, 0.83, "vt"),
    Row("mistralai/mistral-small", "Mistral Small", 0.2, 0.6, 32000, None, 1704844800, 0.35, 100, 0.74, "t"),
    Row("mistralai/mistral-large", "Mistral Large", 2, 6, 128000, None, 1708905600, 0.6, 50, 0.88, "t"),
    Row("mistralai/mistral-large-2411", "Mistral Large 2411", 2, 6, 131072, None, 1731978415, 0.6, 50, 0.89, "t"),
    Row("mistralai/mistral-medium-3", "Mistral: Mistral Medium 3", 0.4, 2, 131072, None, 1746627341, 0.5, 70, 0.87, "vt"),
    Row("mistralai/mistral-nemo", "Mistral: Mistral Nemo", 0.035, 0.08, 131072, 16384, 1721347200, 0.3, 140, 0.68, "t"),
    Row("mistralai/mistral-7b-instruct", "Mistral: Mistral 7B Instruct", 0.03, 0.055, 32768, 16384, 1716768000, 0.25, 170, 0.5, "t"),
    Row("mistralai/mixtral-8x7b-instruct", "Mistral: Mixtral 8x7B Instruct", 0.24, 0.24, 32768, 16384, 1702166400, 0.35, 110, 0.64, "t"),
    Row("mistralai/mixtral-8x22b-instruct", "Mistral: Mixtral 8x22B Instruct", 0.9, 0.9, 65536, None, 1713312000, 0.5, 60, 0.76, "t"),
    Row("mistralai/codestral-2501", "Mistral: Codestral 2501", 0.3, 0.9, 262144, None, 1736895522, 0.35, 150, 0.78, "t"),
    Row("mistralai/ministral-8b", "Mistral: Ministral 8B", 0.1, 0.1, 128000, None, 1729123200, 0.25, 160, 0.62, "t"),
    Row("mistralai/ministral-3b", "Mistral: Ministral 3B", 0.04, 0.04, 131072, None, 1729123200, 0.2, 200, 0.52, "t"),
    Row("mistralai/pixtral-large-2411", "Mistral: Pixtral Large 2411", 2, 6, 131072, None, 1731977388, 0.7, 50, 0.87, "vt"),
    Row("mistralai/pixtral-12b", "Mistral: Pixtral 12B", 0.1, 0.1, 32768, None, 1725926400, 0.35, 100, 0.63, "v"),
    Row("mistralai/mistral-small-3.1-24b-instruct", "Mistral: Mistral Small 3.1 24B", 0.1, 0.3, 131072, None, 1742238937, 0.35, 110, 0.78, "vt"),
    Row("mistralai/mistral-saba", "Mistral: Saba", 0.2, 0.6, 32768, None, 1739803239, 0.35, 100, 0.72, "t"),
    Row("deepseek/deepseek-chat", "DeepSeek: DeepSeek V3", 0.27, 1.1, 163840, 8192, 1735241584, 1.0, 40, 0.9, "t"),
    Row("deepseek/deepseek-chat-v3-0324", "DeepSeek: DeepSeek V3 0324", 0.27, 1.1, 163840, 8192, 1742824755, 1.0, 45, 0.91, "t"),
    Row("deepseek/deepseek-r1", "DeepSeek: R1", 0.55, 2.19, 163840, 32768, 1737381095, 5.0, 35, 0.96, "r"),
    Row("deepseek/deepseek-r1-distill-llama-70b", "DeepSeek: R1 Distill Llama 70B", 0.1, 0.4, 131072, 16384, 1737663169, 3.0, 60, 0.88, "r"),
    Row("deepseek/deepseek-r1-distill-qwen-32b", "DeepSeek: R1 Distill Qwen 32B", 0.12, 0.18, 131072, 16384, 1738194830, 2.5, 60, 0.86, "r"),
    Row("qwen/qwen-2.5-72b-instruct", "Qwen2.5 72B Instruct", 0.12, 0.39, 32768, 16384, 1726704000, 0.5, 60, 0.86, "t"),
    Row("qwen/qwen-2.5-7b-instruct", "Qwen2.5 7B Instruct", 0.04, 0.1, 32768, 16384, 1729036800, 0.25, 170, 0.63, "t"),
    Row("qwen/qwen-2.5-coder-32b-instruct", "Qwen2.5 Coder 32B Instruct", 0.06, 0.15, 32768, 16384, 1731368400, 0.4, 80, 0.8, "t"),
    Row("qwen/qwen2.5-vl-72b-instruct", "Qwen: Qwen2.5 VL 72B Instruct", 0.25, 0.75, 32000, None, 1738410311, 0.6, 50, 0.84, "v"),
    Row("qwen/qwq-32b", "Qwen: QwQ 32B", 0.15, 0.2, 131072, None, 1741208814, 4.0, 60, 0.93, "r"),
    Row("qwen/qwen-max", "Qwen: Qwen-Max", 1.6, 6.4, 32768, 8192, 1738402289, 0.8, 40, 0.9, "t"),
    Row("qwen/qwen-plus", "Qwen: Qwen-Plus", 0.4, 1.2, 131072, 8192, 1738409840, 0.6, 60, 0.86, "t"),
    Row("qwen/qwen-turbo", "Qwen: Qwen-Turbo", 0.05, 0.2, 1000000, 8192, 1738410974, 0.4, 120, 0.76, "t"),
    Row("qwen/qwen3-235b-a22b", "Qwen: Qwen3 235B A22B", 0.13, 0.6, 40960, None, 1745875757, 2.0, 50, 0.93, "rt"),
    Row("qwen/qwen3-32b", "Qwen: Qwen3 32B", 0.1, 0.3, 40960, None, 1745875945, 1.5, 60, 0.9, "rt"),
    Row("qwen/qwen3-30b-a3b", "Qwen: Qwen3 30B A3B", 0.08, 0.29, 40960, None, 1745878604, 1.2, 90, 0.87, "rt"),
    Row("qwen/qwen3-14b", "Qwen: Qwen3 14B", 0.06, 0.24, 40960, None, 1745876478, 1.0, 90, 0.85, "rt"),
    Row("qwen/qwen3-8b", "Qwen: Qwen3 8B", 0.035, 0.138, 128000, None, 1745876632, 0.8, 110, 0.8, "rt"),
    Row("cohere/command-r-plus-08-2024", "Cohere: Command R+ (08-2024)", 2.5, 10, 128000, 4000, 1724976000, 0.6, 50, 0.84, "t"),
    Row("cohere/command-r-08-2024", "Cohere: Command R (08-2024)", 0.15, 0.6, 128000, 4000, 1724976000, 0.35, 100, 0.74, "t"),
    Row("cohere/command-r7b-12-2024", "Cohere: Command R7B (12-2024)", 0.0375, 0.15, 128000, 4000, 1734158152, 0.2, 160, 0.6),
    Row("cohere/command-a", "Cohere: Command A", 2.5, 10, 256000, 8192, 1741894342, 0.6, 70, 0.88, "t"),
    Row("x-ai/grok-2-1212", "xAI: Grok 2 1212", 2, 10, 131072, None, 1734232814, 0.6, 60, 0.88, "t"),
    Row("x-ai/grok-2-vision-1212", "xAI: Grok 2 Vision 1212", 2, 10, 32768, None, 1734237338, 0.6, 60, 0.86, "v"),
    Row("x-ai/grok-3", "xAI: Grok 3", 3, 15, 131072, None, 1749582908, 0.7, 60, 0.95, "t"),
    Row("x-ai/grok-3-mini", "xAI: Grok 3 Mini", 0.3, 0.5, 131072, None, 1749583245, 2.0, 100, 0.92, "rt"),
    Row("amazon/nova-pro-v1", "Amazon: Nova Pro 1.0", 0.8, 3.2, 300000, 5120, 1733436303, 0.5, 90, 0.85, "vt"),
    Row("amazon/nova-lite-v1", "Amazon: Nova Lite 1.0", 0.06, 0.24, 300000, 5120, 1733437363, 0.35, 150, 0.74, "vt"),
    Row("amazon/nova-micro-v1", "Amazon: Nova Micro 1.0", 0.035, 0.14, 128000, 5120, 1733437237, 0.3, 200, 0.66, "t"),
    Row("microsoft/phi-4", "Microsoft: Phi 4", 0.07, 0.14, 16384, None, 1736489872, 0.3, 100, 0.8),
    Row("microsoft/phi-3.5-mini-128k-instruct", "Microsoft: Phi-3.5 Mini 128K Instruct", 0.1, 0.1, 128000, None, 1724198400, 0.25, 150, 0.58),
    Row("microsoft/phi-3-medium-128k-instruct", "Microsoft: Phi-3 Medium 128K Instruct", 1, 1, 128000, None, 1716508800, 0.35, 80, 0.62),
    Row("microsoft/wizardlm-2-8x22b", "WizardLM-2 8x22B", 0.5, 0.5, 65536, None, 1713225600, 0.5, 60, 0.76),
    Row("nousresearch/hermes-3-llama-3.1-405b", "Nous: Hermes 3 405B Instruct", 0.8, 0.8, 131072, None, 1723766400, 0.8, 30, 0.87),
    Row("nousresearch/hermes-3-llama-3.1-70b", "Nous: Hermes 3 70B Instruct", 0.12, 0.3, 131072, None, 1723939200, 0.5, 60, 0.8),
    Row("nousresearch/hermes-2-pro-llama-3-8b", "NousResearch: Hermes 2 Pro - Llama-3 8B", 0.025, 0.04, 131072, None, 1716768000, 0.25, 170, 0.55),
    Row("perplexity/sonar", "Perplexity: Sonar", 1, 1, 127072, None, 1738013808, 1.2, 80, 0.8, "", 0.005),
    Row("perplexity/sonar-pro", "Perplexity: Sonar Pro", 3, 15, 200000, 8000, 1741312423, 1.5, 60, 0.88, "v", 0.005),
    Row("perplexity/sonar-reasoning", "Perplexity: Sonar Reasoning", 1, 5, 127000, None, 1738131107, 3.0, 70, 0.9, "r", 0.005),
    Row("ai21/jamba-1.5-large", "AI21: Jamba 1.5 Large", 2, 8, 256000, 4096, 1724371200, 0.6, 50, 0.8, "t"),
    Row("ai21/jamba-1.5-mini", "AI21: Jamba 1.5 Mini", 0.2, 0.4, 256000, 4096, 1724371200, 0.3, 120, 0.66, "t"),
    Row("inflection/inflection-3-pi", "Inflection: Inflection 3 Pi", 2.5, 10, 8000, 1024, 1728604800, 0.6, 40, 0.7),
    Row("inflection/inflection-3-productivity", "Inflection: Inflection 3 Productivity", 2.5, 10, 8000, 1024, 1728604800, 0.6, 40, 0.72),
    Row("nvidia/llama-3.1-nemotron-70b-instruct", "NVIDIA: Llama 3.1 Nemotron 70B Instruct", 0.12, 0.3, 131072, 16384, 1728950400, 0.5, 60, 0.84, "t"),
    Row("01-ai/yi-large", "01.AI: Yi Large", 3, 3, 32768, 4096, 1719273600, 0.6, 50, 0.78),
    Row("liquid/lfm-40b", "Liquid: LFM 40B MoE", 0.15, 0.15, 32768, None, 1727654400, 0.3, 120, 0.62),
    Row("liquid/lfm-7b", "Liquid: LFM 7B", 0.01, 0.01, 32768, None, 1737806883, 0.2, 200, 0.5),
    Row("gryphe/mythomax-l2-13b", "MythoMax 13B", 0.065, 0.065, 4096, 4096, 1688256000, 0.3, 90, 0.45),
    Row("sao10k/l3.3-euryale-70b", "Sao10K: Llama 3.3 Euryale 70B", 0.7, 0.8, 131072, 16384, 1734535928, 0.5, 50, 0.76),
    Row("openchat/openchat-7b", "OpenChat 3.5 7B", 0.07, 0.07, 8192, None, 1701129600, 0.25, 150, 0.5),
    Row("minimax/minimax-01", "MiniMax: MiniMax-01", 0.2, 1.1, 1000192, 1000192, 1736915462, 0.8, 60, 0.84, "v"),
    Row("thudm/glm-4-32b", "THUDM: GLM 4 32B", 0.24, 0.24, 32000, None, 1744920915, 0.5, 70, 0.82, "t"),
)
# fmt: on

# `:free` variants of known models: price 0, 20 requests/min, slower (shared capacity), same accuracy.
FREE_VARIANTS: tuple[str, ...] = (
    "meta-llama/llama-3.3-70b-instruct",
    "meta-llama/llama-3.1-8b-instruct",
    "meta-llama/llama-3.2-3b-instruct",
    "meta-llama/llama-4-maverick",
    "meta-llama/llama-4-scout",
    "mistralai/mistral-7b-instruct",
    "mistralai/mistral-nemo",
    "mistralai/mistral-small-3.1-24b-instruct",
    "deepseek/deepseek-r1",
    "deepseek/deepseek-chat-v3-0324",
    "deepseek/deepseek-r1-distill-llama-70b",
    "qwen/qwen-2.5-72b-instruct",
    "qwen/qwq-32b",
    "qwen/qwen3-235b-a22b",
    "qwen/qwen3-30b-a3b",
    "google/gemma-3-27b-it",
    "google/gemma-2-9b-it",
    "nvidia/llama-3.1-nemotron-70b-instruct",
)

VENDOR_NAMES: dict[str, str] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google",
    "meta-llama": "DeepInfra",
    "mistralai": "Mistral",
    "deepseek": "DeepSeek",
    "qwen": "Alibaba",
    "cohere": "Cohere",
    "x-ai": "xAI",
    "amazon": "Amazon Bedrock",
    "microsoft": "Azure",
    "nousresearch": "Lambda",
    "perplexity": "Perplexity",
    "ai21": "AI21",
    "inflection": "Inflection",
    "nvidia": "Nebius",
    "01-ai": "Fireworks",
    "liquid": "Liquid",
    "gryphe": "Together",
    "sao10k": "Infermatic",
    "openchat": "Lepton",
    "minimax": "Minimax",
    "thudm": "Novita",
}

# Vendors of the generated ("(simulated)") part of the catalog, so it has 60+ vendors like OpenRouter's.
GENERATED_VENDORS: tuple[str, ...] = (
    "aion-labs", "alfredpros", "allenai", "alpindale", "anthracite-org", "arcee-ai", "arliai", "baidu",
    "bytedance", "cognitivecomputations", "deepcogito", "eleutherai", "eva-unit-01", "featherless",
    "ibm-granite", "inception", "infermatic", "internlm", "jondurbin", "kwaipilot", "mancer", "meituan",
    "moonshotai", "morph", "neversleep", "opengvlab", "pygmalionai", "raifle", "rekaai", "sarvamai", "scb10x",
    "shisa-ai", "sophosympatheia", "stepfun-ai", "switchpoint", "tencent", "thedrummer", "tngtech", "undi95",
    "z-ai", "agentica-org", "inclusionai", "essentialai", "prime-intellect", "relace",
)  # fmt: skip

GENERATED_FAMILIES: tuple[str, ...] = (
    "aurora", "atlas", "orion", "lyra", "zephyr", "sage", "ember", "quill", "helix", "vega", "pulse", "cedar",
    "drift", "flux", "nimbus", "prism", "tide", "spark", "comet", "delta", "kestrel", "marble", "onyx", "willow",
)  # fmt: skip
