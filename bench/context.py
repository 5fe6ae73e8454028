"""Context compression measured: needle retention at 50-90 % reduction, the time to fit 128K tokens into 32K, and
the token counter's speed.

The data are seeded (9001-9010, seeds the unit tests never use): conversations of filler paragraphs on varied
topics (gardening, sailing, databases, ...), with one planted fact, the *needle* ("The access code for the Orion
archive is 7341."), a few look-alike distractors ("The access code for the Lyra archive is 5512."), and a question
about the needle as the final user message. Retention is the share of conversations whose needle sentence survives
compression verbatim.

Counts come from ``autodevai.adapters.tokenizer.TiktokenCounter`` (exact o200k_base); when it cannot be imported
or its data is missing, from a chars/4 estimate, and every line that depends on it says so.

usage: python bench/context.py [--seeds 9001-9010] [--runs 5]
Last line: one JSON object (retention_at_75, fit_128k_to_32k_ms, count_tokens_per_s, ...).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Sequence

from autodevai.engine import constants as C
from autodevai.engine.compression import compress
from autodevai.engine.ports import TokenCounter
from autodevai.engine.types import ChatMessage

REDUCTIONS = (0.50, 0.75, 0.80, 0.90)
STRATEGIES = ("extractive", "auto", "middle-out", "truncate")


class EstimateCounter:
    """chars/4 plus the chat format's overhead: the engine's fallback estimate, used only without tiktoken."""

    def count(self, text: str, model: str | None = None) -> int:
        return int(len(text) / C.CHARS_PER_TOKEN)

    def count_many(self, texts: Sequence[str], model: str | None = None) -> list[int]:
        return [int(len(t) / C.CHARS_PER_TOKEN) for t in texts]

    def count_messages(self, messages: Sequence[ChatMessage], model: str | None = None) -> int:
        return 3 + sum(self.count(m.content) + C.MESSAGE_OVERHEAD_TOKENS for m in messages)

    def encoding_name(self, model: str | None = None) -> str:
        return "estimate(chars/4)"


def load_counter() -> tuple[TokenCounter, str]:
    """The real counter when it imports and loads, else the estimate, with a label saying which."""
    try:
        from autodevai.adapters.tokenizer import TiktokenCounter  # the adapter may land after this bench

        counter = TiktokenCounter()
        counter.count("warm up the encoding")
        return counter, f"tiktoken {counter.encoding_name(None)} (exact)"
    except Exception as exc:  # ImportError, or ConfigError when the bundled BPE files are not there yet
        return EstimateCounter(), f"ESTIMATE chars/4 — TiktokenCounter unavailable ({type(exc).__name__}: {exc})"


# --- data ---------------------------------------------------------------------------------------------------

# Filler: per topic, subjects x predicates x settings (8 x 8 x 8), so nearly every sentence is different, as in
# real documents; a sentence in four also carries a number.
TOPICS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "gardening": (
        [
            "The tomato bed",
            "Our allotment",
            "The new compost heap",
            "The raspberry row",
            "The herb spiral",
            "The old pear tree",
            "The cold frame",
            "The rain barrel",
        ],
        [
            "needed more water than expected",
            "produced a heavy crop",
            "suffered from slugs",
            "was mulched with shredded leaves",
            "recovered after pruning",
            "was replanted with garlic",
            "attracted far more bees",
            "had to be fenced against rabbits",
        ],
        [
            "after the long dry spell",
            "in the second week of June",
            "despite the late frost",
            "once the soil had warmed",
            "following advice from the neighbours",
            "before the autumn rains",
            "during the heat wave",
            "after the beds were rotated",
        ],
    ),
    "sailing": (
        [
            "The skipper",
            "The crew on the night watch",
            "The harbour master",
            "Our navigator",
            "The new foresail",
            "The old mooring line",
            "The tidal stream",
            "The barometer",
        ],
        [
            "reefed the main early",
            "logged the position every hour",
            "warned about the shoals",
            "held up better than expected",
            "turned against us",
            "dropped sharply",
            "chafed through",
            "kept the boat on course",
        ],
        [
            "off the northern headland",
            "as the wind backed to the west",
            "an hour after high water",
            "in the narrow channel",
            "before the squall arrived",
            "on the crossing to the islands",
            "while the fog lifted",
            "during the night passage",
        ],
    ),
    "databases": (
        [
            "The nightly report",
            "The migration script",
            "The connection pool",
            "The query planner",
            "The write-ahead log",
            "The replica in the second region",
            "The backup job",
            "The new index",
        ],
        [
            "ran much faster",
            "locked the orders table",
            "ran out of connections",
            "chose a sequential scan",
            "grew beyond its limit",
            "fell behind the primary",
            "failed silently",
            "cut the latency in half",
        ],
        [
            "after the statistics were refreshed",
            "during the peak hour",
            "once the batch size was reduced",
            "on the first day of the month",
            "after the schema change",
            "while the vacuum was running",
            "under the load test",
            "until the pool was resized",
        ],
    ),
    "cooking": (
        [
            "The bread dough",
            "The vegetable stock",
            "The risotto",
            "The custard",
            "The spice mix",
            "The aubergine slices",
            "The caramelised onions",
            "The lemon tart",
        ],
        [
            "rested overnight in the fridge",
            "turned cloudy",
            "needed more warm stock",
            "thickened slowly",
            "released a deeper aroma",
            "lost their bitterness",
            "took forty minutes",
            "set perfectly",
        ],
        [
            "after being salted for half an hour",
            "when it was simmered too hard",
            "on a low flame",
            "once the spices were toasted",
            "in the cast-iron pan",
            "before the guests arrived",
            "with a splash of wine",
            "under a loose lid",
        ],
    ),
    "astronomy": (
        [
            "The evening planet",
            "The meteor shower",
            "The globular cluster",
            "The comet",
            "The new telescope mirror",
            "The star chart",
            "The observing group",
            "The faint galaxy",
        ],
        [
            "was visible low in the west",
            "peaked before dawn",
            "resolved into single stars",
            "showed a long tail",
            "needed an hour to cool",
            "was read by red torchlight",
            "counted more than sixty trails",
            "disappeared in the light pollution",
        ],
        [
            "through most of March",
            "from the dark site on the hill",
            "with the wide-field binoculars",
            "despite the thin cloud",
            "after midnight",
            "once the Moon had set",
            "near the horizon",
            "during the winter months",
        ],
    ),
    "finance": (
        [
            "The quarterly report",
            "Operating cash flow",
            "The currency hedge",
            "The audit committee",
            "Capital expenditure",
            "The loan covenant",
            "The inventory write-down",
            "Net debt",
        ],
        [
            "was restated",
            "rose sharply",
            "covered two thirds of the sales",
            "asked for a reconciliation",
            "was deferred",
            "remained within its limit",
            "hit the discontinued lines",
            "fell slightly",
        ],
        [
            "in the second half",
            "after the receivables were collected",
            "before the annual meeting",
            "because of the new lease",
            "compared with the prior year",
            "under the revised guidance",
            "at the end of the period",
            "despite weaker demand",
        ],
    ),
    "history": (
        [
            "The town charter",
            "The bridge toll",
            "The abbey library",
            "The parish register",
            "The old ridge road",
            "The garrison",
            "The guild hall",
            "The river trade",
        ],
        [
            "was renewed by three kings",
            "was paid in salt",
            "survived the great fire",
            "records many burials",
            "avoided the marshes",
            "complained about the food",
            "served as a court",
            "declined steadily",
        ],
        [
            "in the thirteenth century",
            "until the sixteenth century",
            "during the wet summers",
            "after the plague years",
            "according to the surviving letters",
            "before the canal was dug",
            "in hard winters",
            "under the new bishop",
        ],
    ),
    "medicine": (
        [
            "The new dressing",
            "Hand hygiene on the ward",
            "Weight-based dosing",
            "The screening programme",
            "The shortened night shift",
            "Early mobilisation",
            "The kidney function check",
            "The trial",
        ],
        [
            "was compared with standard care",
            "improved markedly",
            "reduced repeat courses",
            "found most cases early",
            "cut medication errors",
            "shortened the stay by a day",
            "became routine",
            "enrolled more patients than planned",
        ],
        [
            "in patients with chronic ulcers",
            "after the dispensers were moved",
            "in children under twelve",
            "across all three districts",
            "after the review",
            "following surgery",
            "before each treatment cycle",
            "during the first year",
        ],
    ),
}

NAMES = [
    "Orion",
    "Lyra",
    "Vega",
    "Altair",
    "Cygnus",
    "Draco",
    "Perseus",
    "Carina",
    "Auriga",
    "Hydra",
    "Lupus",
    "Pavo",
    "Corvus",
    "Mensa",
    "Norma",
    "Pyxis",
    "Tucana",
    "Volans",
    "Fornax",
    "Sextans",
]
PEOPLE = ["Mirela Kovac", "Tomas Lindqvist", "Ayesha Rahman", "Jonah Whitfield", "Ines Carvalho", "Kenji Sato"]
PLACES = ["greenhouse", "boathouse", "server room", "archive vault", "workshop", "observatory dome"]
COLORS = ["blue", "green", "yellow", "white", "red", "grey"]

# (fact, question, distractor fact): {n} is the needle's name, {v} its value; a distractor uses another name/value.
NEEDLES: list[tuple[str, str]] = [
    ("The access code for the {n} archive is {v}.", "What is the access code for the {n} archive?"),
    (
        "The maintenance window for the {n} cluster starts at {v} UTC.",
        "When does the maintenance window for the {n} cluster start?",
    ),
    ("The {n} expedition recorded a maximum depth of {v} meters.", "What maximum depth did the {n} expedition record?"),
    (
        "The backup key for the {n} vault is stored under the label {v}.",
        "Under which label is the backup key for the {n} vault stored?",
    ),
]


def _value(rng: random.Random, kind: int) -> str:
    if kind == 1:
        return f"{rng.randrange(24):02d}:{rng.randrange(0, 60, 5):02d}"
    if kind == 3:
        return f"K-{rng.randrange(100, 999)}-{rng.choice('ABCDEFGH')}"
    return str(rng.randrange(1000, 9999))


def _sentence(rng: random.Random, topic: str) -> str:
    subjects, predicates, settings = TOPICS[topic]
    extra = f", for the {rng.randint(2, 40)}th time" if rng.random() < 0.25 else ""
    return f"{rng.choice(subjects)} {rng.choice(predicates)} {rng.choice(settings)}{extra}."


def _paragraph(rng: random.Random) -> str:
    topic = rng.choice(list(TOPICS))
    return " ".join(_sentence(rng, topic) for _ in range(rng.randint(3, 7)))


def make_case(seed: int, approx_tokens: int, counter: TokenCounter) -> tuple[list[ChatMessage], str]:
    """A conversation of about ``approx_tokens`` tokens (by ``counter``) ending in a question, and the needle."""
    rng = random.Random(seed)
    kind = rng.randrange(len(NEEDLES))
    fact, question = NEEDLES[kind]
    names = rng.sample(NAMES, 4)
    needle = fact.format(n=names[0], v=_value(rng, kind))
    distractors = [fact.format(n=n, v=_value(rng, kind)) for n in names[1:]]
    person, place, color = rng.choice(PEOPLE), rng.choice(PLACES), rng.choice(COLORS)
    paras: list[str] = []
    size = 0
    while size < approx_tokens:
        p = _paragraph(rng)
        paras.append(p)
        size += counter.count(p) + 1
    for planted in [needle, *distractors, f"{person} keeps the spare key to the {place} in a {color} jar."]:
        at = rng.randrange(len(paras))
        words = paras[at].split(". ")
        words.insert(rng.randrange(len(words) + 1), planted.rstrip("."))
        paras[at] = ". ".join(w.rstrip(".") for w in words) + "."
    # Spread the paragraphs over turns: documents pasted by the user, notes written by the assistant.
    messages = [ChatMessage(role="system", content="You are a careful assistant. Answer from the documents.")]
    per_turn = max(1, len(paras) // 12)
    for k, start in enumerate(range(0, len(paras), per_turn)):
        role = "user" if k % 2 == 0 else "assistant"
        chunk = "\n\n".join(paras[start : start + per_turn])
        messages.append(ChatMessage(role=role, content=(f"Document {k + 1}:\n\n" if role == "user" else "") + chunk))
    messages.append(ChatMessage(role="user", content=question.format(n=names[0])))
    return messages, needle


# --- measurements -------------------------------------------------------------------------------------------


def retention_table(counter: TokenCounter, seeds: Sequence[int]) -> dict[str, dict[float, tuple[float, float, float]]]:
    """strategy -> reduction -> (retention, mean quality, mean ms)."""
    cases = [make_case(seed, 12_000, counter) for seed in seeds]
    table: dict[str, dict[float, tuple[float, float, float]]] = {}
    for strategy in STRATEGIES:
        table[strategy] = {}
        for reduction in REDUCTIONS:
            kept = 0
            qualities: list[float] = []
            times: list[float] = []
            for messages, needle in cases:
                before = counter.count_messages(messages)
                budget = round(before * (1 - reduction))
                out, report = compress(messages, budget, counter=counter, strategy=strategy)  # type: ignore[arg-type]
                assert counter.count_messages(out) <= budget
                kept += any(needle in m.content for m in out)
                qualities.append(report.quality)
                times.append(report.elapsed_ms)
            table[strategy][reduction] = (kept / len(cases), statistics.mean(qualities), statistics.mean(times))
    return table


def fit_time(counter: TokenCounter, strategy: str, runs: int) -> tuple[float, int, int, bool]:
    """Median ms to fit a ~128K-token conversation into 32K; also its size, the result's size, needle kept."""
    size = 128_000
    messages, needle = make_case(9001, size, counter)
    while counter.count_messages(messages) < 128_000:  # joins and planted facts make the count land a bit short
        size += 1_000
        messages, needle = make_case(9001, size, counter)
    before = counter.count_messages(messages)
    times: list[float] = []
    after, kept = 0, False
    for _ in range(runs):
        t0 = time.perf_counter()
        out, report = compress(messages, 32_000, counter=counter, strategy=strategy)  # type: ignore[arg-type]
        times.append((time.perf_counter() - t0) * 1000.0)
        after, kept = report.tokens_after, any(needle in m.content for m in out)
    return statistics.median(times), before, after, kept


def count_speed(counter: TokenCounter, runs: int) -> tuple[float, int]:
    messages, _ = make_case(9002, 128_000, counter)
    text = "\n\n".join(m.content for m in messages)
    rates: list[float] = []
    n = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        n = counter.count(text)
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="9001-9010", help="inclusive range, e.g. 9001-9010")
    parser.add_argument("--runs", type=int, default=5, help="timing runs (the median is reported)")
    args = parser.parse_args()
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1))
    counter, label = load_counter()
    print(f"counter: {label}")
    print(f"needle retention over {len(seeds)} seeded conversations of ~12K tokens (quality = mean report.quality)")
    table = retention_table(counter, seeds)
    header = "strategy     " + "".join(f"  {int(r * 100)}% cut: kept  qual    ms" for r in REDUCTIONS)
    print(header)
    for strategy, row in table.items():
        cells = "".join(f"  {ret:>13.0%} {q:>5.2f} {ms:>5.1f}" for ret, q, ms in row.values())
        print(f"{strategy:<12} {cells}")
    fits = {}
    for strategy in ("auto", "extractive"):
        ms, before, after, kept = fit_time(counter, strategy, args.runs)
        fits[strategy] = ms
        print(
            f"fit {before:,} -> 32,000 tokens with {strategy:<10}: {ms:6.1f} ms median of {args.runs} "
            f"(result {after:,} tokens, needle kept: {kept})"
        )
    rate, n = count_speed(counter, args.runs)
    print(f"count_tokens_per_s on a {n:,}-token text: {rate:,.0f}")
    exact = not isinstance(counter, EstimateCounter)
    if not exact:
        print("NOTE: numbers above use the chars/4 ESTIMATE, not tiktoken; the speed targets are not measured.")
    print(
        json.dumps(
            {
                "retention_at_75": table["extractive"][0.75][0],
                "fit_128k_to_32k_ms": round(max(fits.values()), 1),
                "count_tokens_per_s": round(rate),
                "counter": "tiktoken" if exact else "estimate",
                "retention": {s: {str(int(r * 100)): row[r][0] for r in REDUCTIONS} for s, row in table.items()},
                "fit_ms": {s: round(v, 1) for s, v in fits.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
