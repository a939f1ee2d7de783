"""``enrich``: a model rewrites the words of a proposal, and nothing else.

What it promises:

- Only the texts named in ``proposal.flavour`` change, only where the pointer ends at a word
  field (``name``, ``description``, a dialogue line's ``text``) that holds a string, and only in
  objects the proposal creates: an object listed in ``existing`` keeps its words. Every other
  value of the payload (numbers, ids, references, versions) comes out equal, checked at the end
  (``EnrichInvariantError`` if not: a bug, never a model's doing).
- Every new text is schema-checked (lengths), then filtered: control and bidirectional
  characters, markup (``<``, ``>``, backticks, ``[..](..)``), braces that are not allowed
  ``{placeholders}``, new lines outside descriptions, and banned terms (the shipped list of
  ``ouroboros.content.text_checks`` plus the guardrails' words). Then the meaning check
  (``ouroboros.ai.llm.meaning``): a new name keeps its object's kind, a quest's description stays
  its instructions. A refused text keeps the generator's words; ``rejected`` says which and why.
- A model that fails (any ``LlmError`` or other exception), is slower than the timeout, or
  answers outside the schema leaves the generator's words in place; the report says so
  (``fallback: True`` and the ``reason``). The offline provider writes no words over the
  generator's (they came from the same grammars): with it the words stay as generated. The
  result parses as content whenever the input did.
- The result is a new ``Proposal`` with a new id; the report names both ids.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ouroboros.ai.llm.base import LlmRequest, LlmResponse, Provider
from ouroboros.ai.llm.meaning import instruction_problem, kind_problem
from ouroboros.ai.llm.offline import OfflineProvider
from ouroboros.ai.llm.schema import validate
from ouroboros.ai.proposals import Proposal
from ouroboros.content.limits import LIMITS
from ouroboros.content.text_checks import find_banned_terms, placeholder_problems
from ouroboros.errors import ContentError, EnrichInvariantError, LlmError

__all__ = ["WORD_FIELDS", "EnrichReport", "enrich", "text_problem"]

#: The payload fields a model may write, with their length limit.
WORD_FIELDS: dict[str, int] = {
    "name": LIMITS.max_name_chars,
    "description": LIMITS.max_description_chars,
    "text": LIMITS.max_dialogue_line_chars,
}
_MULTI_LINE = frozenset({"description"})
_BIDI = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F])
_MARKUP = re.compile(r"[<>`]|\]\(|\[/?[a-z]+\]|^#|\*\*|__")
_SYSTEM = (
    "You write short flavour text for a game world: names, descriptions and lines people say. "
    "Answer with one JSON object and nothing else, with exactly the keys asked for. Plain words: "
    "no markup, no numbers that look like game statistics, no instructions to anyone."
)


@dataclass
class EnrichReport:
    proposal_before: str
    proposal_after: str = ""
    provider: str = ""
    model: str = ""
    fallback: bool = False
    reason: str | None = None
    texts: dict[str, dict[str, str]] = field(default_factory=dict)  # pointer -> before/after/source
    rejected: list[dict[str, str]] = field(default_factory=list)  # pointer, code, message
    skipped: list[dict[str, str]] = field(default_factory=list)  # pointer, message
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def _segments(pointer: str) -> list[str] | None:
    if not pointer.startswith("/"):
        return None
    return [_unescape(s) for s in pointer[1:].split("/")]


def _resolve(payload: Any, segments: list[str]) -> tuple[Any, str | int] | None:
    """(container, key) of the value ``segments`` name, or ``None`` where it does not exist."""
    node = payload
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        if isinstance(node, dict):
            if segment not in node:
                return None
            if last:
                return node, segment
            node = node[segment]
        elif isinstance(node, list):
            if not segment.isdigit() or int(segment) >= len(node) or (len(segment) > 1 and segment[0] == "0"):
                return None
            if last:
                return node, int(segment)
            node = node[int(segment)]
        else:
            return None
    return None


def text_problem(text: Any, field_name: str, banned: Iterable[str] = ()) -> tuple[str, str] | None:
    """Why ``text`` may not go into a ``field_name`` field, as (code, message); ``None`` if it may."""
    limit = WORD_FIELDS.get(field_name, LIMITS.max_name_chars)
    if not isinstance(text, str):
        return "wrong_type", f"expected a string, got {type(text).__name__}"
    if not text.strip():
        return "blank", "the text is blank"
    if len(text) > limit:
        return "too_long", f"longer than {limit} characters"
    for char in text:
        code = ord(char)
        newline_ok = field_name in _MULTI_LINE and char == "\n"
        if (
            code < 0x20 or 0x7F <= code < 0xA0 or char in _BIDI or code in (0x2028, 0x2029)
        ) and not newline_ok:
            return "control_char", f"control character U+{code:04X}"
    if _MARKUP.search(text):
        return "markup", "the text holds markup"
    if ("{" in text or "}" in text) and (field_name != "text" or placeholder_problems(text)):
        return "placeholder", "braces that are not allowed placeholders"
    found = find_banned_terms(text) + (find_banned_terms(text, banned) if banned else [])
    if found:
        return "banned_term", f"a banned term ({len(set(found))})"
    return None


@dataclass
class _Slot:
    pointer: str
    container: Any
    key: str | int
    domain: str
    field: str
    before: str


def _owner(payload: dict[str, Any], segments: list[str]) -> dict[str, Any]:
    """The top-level object a pointer is inside (``/items/0/name`` -> ``payload["items"][0]``)."""
    found = _resolve(payload, segments[:2]) if len(segments) >= 2 else None
    if found is None:
        return {}
    obj = found[0][found[1]]
    return obj if isinstance(obj, dict) else {}


def _slots(
    proposal: Proposal, payload: dict[str, Any], report: EnrichReport, existing: Collection[tuple[str, str]]
) -> list[_Slot]:
    slots: list[_Slot] = []
    for pointer in sorted(proposal.flavour):
        segments = _segments(pointer)
        found = _resolve(payload, segments) if segments else None
        if segments is None or found is None:
            report.skipped.append({"pointer": pointer, "message": "points at nothing in the payload"})
            continue
        container, key = found
        if segments[-1] not in WORD_FIELDS or not isinstance(container[key], str):
            report.skipped.append({"pointer": pointer, "message": "not a word field holding text"})
            continue
        if (segments[0], _owner(payload, segments).get("id")) in existing:
            report.skipped.append({"pointer": pointer, "message": "an existing object's words are kept"})
            continue
        slots.append(_Slot(pointer, container, key, segments[0], segments[-1], container[key]))
    return slots


def _role(slot: _Slot) -> str:
    return "dialogue" if slot.domain == "dialogue" or slot.field == "text" else "flavour"


def _request(role: str, proposal: Proposal, slots: list[_Slot], model: str, timeout_s: float) -> LlmRequest:
    properties = {
        f"t{i}": {
            "type": "string",
            "title": f"{slot.domain}.{slot.field}",
            "minLength": 1,
            "maxLength": min(WORD_FIELDS[slot.field], 600),
        }
        for i, slot in enumerate(slots)
    }
    schema = {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
    }
    lines = [
        f"World: {proposal.world}. What is being made: {proposal.type.value}. {proposal.summary}".strip()
    ]
    lines.append("Rewrite each text below in the world's voice; keep its meaning and keep it short.")
    lines += [f"t{i} ({slot.domain} {slot.field}): {slot.before}" for i, slot in enumerate(slots)]
    return LlmRequest(role, _SYSTEM, "\n".join(lines), schema, model, max_tokens=1024, timeout_s=timeout_s)


def _ask(
    provider: Provider, request: LlmRequest, clock: Callable[[], float] = time.monotonic
) -> tuple[LlmResponse | None, str | None]:
    """The provider's valid answer, or ``None`` and why not (late by ``clock``, in seconds)."""
    started = clock()
    try:
        response = provider.complete(request)
    except LlmError as exc:
        return None, f"{exc.code}: {exc.message}"
    except Exception as exc:  # a provider is outside code: whatever it raises, we fall back
        return None, f"error: {type(exc).__name__}: {exc}"
    elapsed = clock() - started
    if elapsed > request.timeout_s:
        return None, f"slow: answered in {elapsed:.1f} s, more than {request.timeout_s:.1f} s"
    problems = validate(response.data, request.schema)
    if problems:
        return None, f"schema_mismatch: {problems[0][0] or '/'} {problems[0][1]}"
    return response, None


def _masked(payload: Any, pointers: list[list[str]]) -> Any:
    masked = copy.deepcopy(payload)
    for segments in pointers:
        found = _resolve(masked, segments)
        if found is not None:
            found[0][found[1]] = None
    return masked


def _parses(payload: dict[str, Any]) -> bool:
    from ouroboros.content import parse_content

    try:
        parse_content(payload)
    except ContentError:
        return False
    return True


def _meaning_problem(
    slot: _Slot, payload: dict[str, Any], names: list[tuple[str, str]]
) -> tuple[str, str] | None:
    after = slot.container[slot.key]
    if after == slot.before:
        return None
    segments = _segments(slot.pointer) or []
    if slot.field == "name":
        why = kind_problem(slot.domain, _owner(payload, segments), slot.before, after)
        return None if why is None else ("meaning_kind", why)
    if slot.domain == "quests" and slot.field == "description":
        why = instruction_problem(slot.before, after, names)
        return None if why is None else ("meaning_instructions", why)
    return None


def _keep_meaning(
    slots: list[_Slot], payload: dict[str, Any], known_names: Iterable[str], report: EnrichReport
) -> None:
    """Put the generator's words back wherever the new ones change what a text says; a renamed
    object put back may break a description that used its new name, so repeat until stable."""
    for _ in range(len(slots) + 1):
        names = [(s.before, s.container[s.key]) for s in slots if s.field == "name"]
        names += [(name, name) for name in known_names]
        broken = [(s, p) for s in slots if (p := _meaning_problem(s, payload, names)) is not None]
        if not broken:
            return
        for slot, (code, message) in broken:
            slot.container[slot.key] = slot.before
            report.rejected.append({"pointer": slot.pointer, "code": code, "message": message})
            report.texts[slot.pointer] = {"before": slot.before, "after": slot.before, "source": "original"}


def enrich(
    proposal: Proposal,
    provider: Provider,
    *,
    guardrails: Any = None,
    guardrails_banned_words: set[str] | None = None,
    log: Callable[[dict[str, Any]], None] | None = None,
    model: str = "",
    timeout_s: float = 10.0,
    existing: Collection[tuple[str, str]] = (),
    known_names: Iterable[str] = (),
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Proposal, EnrichReport]:
    """The proposal with its flavour texts rewritten by ``provider`` (see the module doc).

    ``guardrails`` is anything with a ``banned_words`` collection (the council's ``Guardrails``);
    its words and ``guardrails_banned_words`` are refused on top of the shipped list. ``log``, if
    given, receives the report as a dict. ``existing``: (domain, id) of the payload's objects that
    exist already (their words are kept); ``known_names``: names of other objects a quest's
    instructions may mention. ``clock`` (seconds) times each answer against ``timeout_s``."""
    banned = set(guardrails_banned_words or ()) | set(getattr(guardrails, "banned_words", None) or ())
    report = EnrichReport(proposal_before=proposal.proposal_id, provider=provider.name)
    payload = copy.deepcopy(proposal.payload)
    slots = _slots(proposal, payload, report, frozenset(existing))
    models: set[str] = set()
    reasons: list[str] = []
    for role in ("flavour", "dialogue"):
        group = [s for s in slots if _role(s) == role]
        if not group:
            continue
        request = _request(role, proposal, group, model, timeout_s)
        response, why = _ask(provider, request, clock)
        if response is None:
            reasons.append(f"{role}: {why}")
        else:
            models.add(f"{response.provider}/{response.model}")
            report.tokens_in += response.tokens_in
            report.tokens_out += response.tokens_out
            report.latency_ms += response.latency_ms
        for i, slot in enumerate(group):
            if response is None or response.provider == OfflineProvider.name:
                # no model's words: the generator's stay (offline has nothing better to say)
                report.texts[slot.pointer] = {
                    "before": slot.before,
                    "after": slot.before,
                    "source": "original",
                }
                continue
            text, source = response.data[f"t{i}"], response.provider
            problem = text_problem(text, slot.field, banned)
            if problem is not None:
                report.rejected.append({"pointer": slot.pointer, "code": problem[0], "message": problem[1]})
                text, source = slot.before, "original"
            slot.container[slot.key] = text
            report.texts[slot.pointer] = {"before": slot.before, "after": text, "source": source}
    filtered = len(report.rejected)
    _keep_meaning(slots, payload, known_names, report)
    if filtered:
        reasons.append(f"{filtered} text(s) refused by the filter")
    if len(report.rejected) > filtered:
        broke = report.rejected[filtered:]
        shown = "; ".join(f"{r['pointer']}: {r['message']}" for r in broke[:3])
        reasons.append(f"{len(broke)} text(s) kept by the meaning check ({shown})")
    pointers = [s for s in (_segments(slot.pointer) for slot in slots) if s is not None]
    if _masked(payload, pointers) != _masked(proposal.payload, pointers):
        raise EnrichInvariantError("enrichment changed a value that is not a flavour text")
    if _parses(proposal.payload) and not _parses(payload):
        reasons.append("content_check: the rewritten payload no longer parses; the original words are kept")
        payload = copy.deepcopy(proposal.payload)
        for slot in slots:
            report.texts[slot.pointer] = {"before": slot.before, "after": slot.before, "source": "original"}
    flavour = {**proposal.flavour, **{p: t["after"] for p, t in report.texts.items()}}
    enriched = proposal.model_copy(
        update={"payload": payload, "flavour": flavour, "proposal_id": ""}
    ).with_id()
    report.proposal_after = enriched.proposal_id
    report.model = ", ".join(sorted(models))
    report.fallback = bool(reasons)
    report.reason = "; ".join(reasons) or None
    if log is not None:
        log({"event": "enrich", **report.as_dict()})
    return enriched, report
