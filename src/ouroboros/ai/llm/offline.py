"""``OfflineProvider``: the default provider, grammars and templates with no network and no model.

What it promises:

- **Deterministic.** The answer is a function of the request only (its ``request_key``): the same
  request gives the same bytes on every machine, at any time.
- **Always valid.** The answer is built *from* the request's schema (the subset of
  ``ouroboros.ai.llm.schema``), so it validates: strings within their lengths, integers within
  their bounds, an option from ``enum`` where one is given (that is how narrative decisions are
  answered), every property of an object and nothing else.
- **Clean words.** Every word it can say passes the banned-terms filter and holds no markup,
  braces or control characters.

Which grammar fills a string comes from the property's ``title`` (``"npcs.name"``,
``"rooms.description"``, ``"dialogue.text"``: how ``enrich`` labels its fields), else from the
property name, else from the request's role.
"""

from __future__ import annotations

from typing import Any

from ouroboros.ai.llm.base import LlmRequest, LlmResponse, request_key
from ouroboros.ai.llm.schema import check_schema
from ouroboros.ai.proposals import SeededDraws
from ouroboros.errors import LlmError, SchemaError
from ouroboros.patches import canonical_bytes

__all__ = ["OFFLINE_MODEL", "OfflineProvider"]

OFFLINE_MODEL = "grammar@1"

_FIRST = ("Kade", "Mira", "Juno", "Rook", "Sable", "Nyx", "Tamsin", "Oren", "Vex", "Lio", "Ada", "Cass")
_LAST = ("Okafor", "Vance", "Ishikawa", "Marlow", "Reyes", "Sato", "Draven", "Kovac", "Lindqvist")
_HANDLE = ("Wire", "Static", "Ghost", "Patch", "Glint", "Socket", "Relay", "Cipher", "Fuse", "Drift")
_ITEM_ADJ = ("Ion", "Chrome", "Neon", "Salvaged", "Humming", "Matte", "Cracked", "Polished", "Surplus")
_ITEM_NOUN = ("Katana", "Vial", "Deck", "Jacket", "Injector", "Lens", "Baton", "Chip", "Lantern", "Coil")
_PLACE_ADJ = ("Rain-Slick", "Flickering", "Quiet", "Crowded", "Sunken", "Humming", "Rusted", "Glass")
_PLACE_NOUN = ("Alley", "Arcade", "Market", "Stairwell", "Rooftop", "Noodle Bar", "Plaza", "Tunnel")
_QUEST_NOUN = ("Courier", "Signal", "Debt", "Ghost", "Ledger", "Lantern", "Circuit", "Favour")
_QUEST_FORM = ("The {noun} Job", "A {noun} Gone Missing", "Chasing the {noun}", "The Last {noun}")
_DESC_OPEN = (
    "Rain beads on every surface here",
    "Old neon buzzes overhead",
    "The air smells of ozone and frying oil",
    "Cables sag between the walls",
    "Everything here has been repaired twice",
)
_DESC_CLOSE = (
    "and nobody looks up for long.",
    "and the crowd moves like a slow tide.",
    "and somewhere a generator coughs.",
    "and the hum never quite stops.",
    "and the shadows keep their own counsel.",
)
_BARKS = (
    "Keep moving, the rain is not getting any lighter.",
    "You buying, or just dripping on my floor?",
    "Heard the grid went dark two blocks over.",
    "Credits first, questions later.",
    "Watch your pockets around here.",
    "Another long night in the city.",
    "If you need a job done quietly, ask around.",
    "The lights flicker when the trains pass.",
)
_SENTENCES = (
    "A quiet change in the city.",
    "Something new stirs under the neon.",
    "The streets remember everything.",
    "Word travels fast on the wire.",
)
_CODE = "-- no model was asked: the offline provider writes no behaviour code\n"


def _name_for(domain: str, draws: SeededDraws) -> str:
    if domain in ("npcs", "npc"):
        form = draws.below(3)
        if form == 0:
            return f"{draws.choice(_FIRST)} {draws.choice(_LAST)}"
        if form == 1:
            return f"{draws.choice(_FIRST)} '{draws.choice(_HANDLE)}' {draws.choice(_LAST)}"
        return f"{draws.choice(_HANDLE)}"
    if domain in ("items", "item"):
        return f"{draws.choice(_ITEM_ADJ)} {draws.choice(_ITEM_NOUN)}"
    if domain in ("rooms", "room"):
        return f"{draws.choice(_PLACE_ADJ)} {draws.choice(_PLACE_NOUN)}"
    if domain in ("quests", "quest"):
        return str(draws.choice(_QUEST_FORM)).format(noun=draws.choice(_QUEST_NOUN))
    return f"{draws.choice(_ITEM_ADJ)} {draws.choice(_QUEST_NOUN)}"


def _description(draws: SeededDraws) -> str:
    return f"{draws.choice(_DESC_OPEN)}, {draws.choice(_DESC_CLOSE)}"


def _text_for(label: str, role: str, draws: SeededDraws) -> str:
    domain, _, field = label.rpartition(".")
    field = field or label
    if role == "trait_code":
        return _CODE
    if "name" in field or field == "title":
        return _name_for(domain, draws)
    if "desc" in field:
        return _description(draws)
    if field in ("text", "line", "bark", "greeting") or role == "dialogue":
        return str(draws.choice(_BARKS))
    if role == "flavour":
        return _description(draws)
    return str(draws.choice(_SENTENCES))


def _fit(text: str, schema: dict[str, Any]) -> str:
    """``text`` cut to ``maxLength`` (at a word where it can) and padded to ``minLength``."""
    limit = schema.get("maxLength")
    if isinstance(limit, int) and len(text) > limit:
        cut = text[:limit]
        space = cut.rfind(" ")
        text = (cut[:space] if space > 0 else cut).rstrip(" ,'-")
    least = schema.get("minLength", 0)
    if isinstance(least, int) and len(text) < least:
        text = (text + " " + "o" * least)[: max(least, len(text))] if text else "o" * least
    return text


class _Builder:
    def __init__(self, role: str, draws: SeededDraws) -> None:
        self.role = role
        self.draws = draws

    def value(self, schema: Any, label: str) -> Any:
        if schema is True or not isinstance(schema, dict):
            return None
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self.draws.choice(list(schema["enum"]))
        types = schema.get("type", "string")
        kinds = types if isinstance(types, list) else [types]
        kind = next((k for k in kinds if k != "null"), kinds[0])
        label = str(schema.get("title", label))
        if kind == "object":
            properties = schema.get("properties", {})
            return {name: self.value(sub, name) for name, sub in properties.items()}
        if kind == "array":
            least = schema.get("minItems", 0)
            most = max(least, min(schema.get("maxItems", least + 3), least + 3))
            return [
                self.value(schema.get("items", {}), label) for _ in range(self.draws.between(least, most))
            ]
        if kind == "integer":
            low = schema.get("minimum", 0)
            high = schema.get("maximum", max(low, 100))
            return self.draws.between(low, max(low, high))
        if kind == "boolean":
            return self.draws.below(2) == 1
        if kind == "null":
            return None
        return _fit(_text_for(label, self.role, self.draws), schema)


class OfflineProvider:
    """Answers every request from grammars keyed by the request's hash (see the module doc)."""

    name = "offline"

    def __init__(self, model: str = OFFLINE_MODEL) -> None:
        self.model = model

    def complete(self, request: LlmRequest) -> LlmResponse:
        key = request_key(request, self.name, self.model)
        draws = SeededDraws(int(key[:16], 16), "offline")
        builder = _Builder(request.role, draws)
        if request.schema is None:
            data = None
            text = _text_for("", request.role, draws)
        else:
            try:
                check_schema(request.schema)
            except SchemaError as exc:
                raise LlmError(
                    f"unsupported schema: {exc.message}", code="bad_request", path=exc.path
                ) from exc
            data = builder.value(request.schema, "")
            text = canonical_bytes(data).decode("utf-8")
        return LlmResponse(
            text=text,
            data=data,
            provider=self.name,
            model=self.model,
            tokens_in=(len(request.system) + len(request.prompt)) // 4,
            tokens_out=len(text) // 4,
            latency_ms=0,
            cached=False,
        )
