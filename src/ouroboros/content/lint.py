"""Static checks of a patch against the active catalog: ``lint_content``.

Schema validation (``parse_content``) proves each object well formed on its own; the linter
proves the patch makes sense as a whole, with stage ``static`` and these codes:

- everything ``Catalog.check`` refuses (``duplicate_id``, ``version_not_increasing``,
  ``unknown_id``, ``conflicting_change``);
- ``unresolved_reference``: a reference that names nothing in the patch or in the catalog (less
  what the patch removes), or a state, plan step or dialogue line the object does not have;
- ``wrong_domain``: an objective or procgen template that names an object of another domain
  (a ``kill`` objective naming an item);
- ``dangling_after_remove``: a removal that leaves a catalog object pointing at nothing;
- ``cycle``: quest prerequisites (across patch and catalog) or a behaviour plan that loop;
- ``banned_term`` and ``bad_placeholder``: player-visible text that breaks ``text_checks``;
- ``kind_mismatch``: a trait whose script is in another language than the trait's kind.

Reasons come in a fixed order (check by check, then by path), so two runs give equal lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ouroboros.content._base import DomainObject
from ouroboros.content._errors import join_pointer
from ouroboros.content.catalog import Catalog
from ouroboros.content.code import Script, Trait
from ouroboros.content.dialogue import Dialogue
from ouroboros.content.npcs import NpcBehavior
from ouroboros.content.patch import DOMAINS, PatchContent
from ouroboros.content.quests import Quest
from ouroboros.content.references import references
from ouroboros.content.text_checks import find_banned_terms, placeholder_problems
from ouroboros.errors import Reason

__all__ = ["LINT_STAGE", "find_cycles", "lint_content"]

LINT_STAGE = "static"

_TEXT_FIELDS = ("name", "description")


def find_cycles(nodes: Iterable[str], successors: Callable[[str], Iterable[str]]) -> list[list[str]]:
    """Cycles of a directed graph, each as its nodes in order (the first node repeated last),
    found by one depth-first pass in ``nodes`` order; a graph with none gives ``[]``."""
    done: set[str] = set()
    cycles: list[list[str]] = []
    for start in nodes:
        if start in done:
            continue
        path: list[str] = [start]
        on_path = {start}
        stack: list[Iterator[str]] = [iter(list(successors(start)))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
            elif following in on_path:
                cycles.append([*path[path.index(following) :], following])
            elif following not in done:
                path.append(following)
                on_path.add(following)
                stack.append(iter(list(successors(following))))
    return cycles


class _Linter:
    def __init__(self, content: PatchContent, catalog: Catalog, prefix: str) -> None:
        self.content = content
        self.catalog = catalog
        self.prefix = prefix
        self.reasons: list[Reason] = []
        self.removed = {(r.domain, r.id) for r in content.remove}
        # the catalog after the patch: what references may name
        self.view: dict[str, dict[str, DomainObject]] = {}
        self.patch_index: dict[str, dict[str, int]] = {}
        for domain in DOMAINS:
            table = {
                i: o
                for i, o in zip(catalog.ids(domain), catalog.objects(domain), strict=True)
                if (domain, i) not in self.removed
            }
            index: dict[str, int] = {}
            for position, obj in enumerate(content.objects(domain)):
                table[obj.id] = obj
                index.setdefault(obj.id, position)
            self.view[domain] = table
            self.patch_index[domain] = index

    def refuse(self, code: str, message: str, *segments: Any) -> None:
        self.reasons.append(Reason(LINT_STAGE, code, join_pointer(self.prefix, *segments), message))

    def patch_objects(self) -> Iterable[tuple[str, int, DomainObject]]:
        for domain in DOMAINS:
            for index, obj in enumerate(self.content.objects(domain)):
                yield domain, index, obj

    def check_references(self) -> None:
        for domain, index, obj in self.patch_objects():
            for ref in references(obj):
                if ref.target_id in self.view[ref.target_domain]:
                    continue
                at = (domain, index, *ref.field)
                elsewhere = [d for d in DOMAINS if ref.target_id in self.view[d]]
                if (ref.target_domain, ref.target_id) in self.removed:
                    self.refuse(
                        "unresolved_reference",
                        f"{ref.target_domain}/{ref.target_id} is removed by this patch",
                        *at,
                    )
                elif elsewhere:
                    self.refuse(
                        "wrong_domain",
                        f"{ref.target_id!r} is in {elsewhere[0]}, this field needs "
                        f"one of {ref.target_domain}",
                        *at,
                    )
                else:
                    self.refuse(
                        "unresolved_reference",
                        f"no {ref.target_domain} object {ref.target_id!r} in this patch or the catalog",
                        *at,
                    )

    def check_removals(self) -> None:
        carried = {(d, o.id) for d, _, o in self.patch_objects()}
        dangling = {key for key in self.removed if key not in carried}
        if not dangling:
            return
        users: dict[tuple[str, str], list[str]] = {}
        for domain in DOMAINS:
            for obj in self.catalog.objects(domain):
                if (domain, obj.id) in self.removed or (domain, obj.id) in carried:
                    continue  # gone, or replaced by the patch (whose references are checked as its own)
                for ref in references(obj):
                    key = (ref.target_domain, ref.target_id)
                    if key in dangling:
                        field = "/".join(str(s) for s in ref.field)
                        users.setdefault(key, []).append(f"{domain}/{obj.id} ({field})")
        for index, removal in enumerate(self.content.remove):
            who = users.get((removal.domain, removal.id))
            if who:
                shown = ", ".join(who[:5]) + (f" and {len(who) - 5} more" if len(who) > 5 else "")
                self.refuse(
                    "dangling_after_remove",
                    f"removing {removal.domain}/{removal.id} leaves {shown} pointing at nothing",
                    "remove",
                    index,
                )

    def check_quest_cycles(self) -> None:
        quests = self.view["quests"]

        def prerequisites(quest_id: str) -> list[str]:
            quest = quests.get(quest_id)
            return [q for q in quest.prerequisites if q in quests] if isinstance(quest, Quest) else []

        patch_quests = self.patch_index["quests"]
        for cycle in find_cycles(sorted(quests), prerequisites):
            in_patch = [q for q in cycle if q in patch_quests]
            if in_patch:
                first = min(in_patch, key=patch_quests.__getitem__)
                self.refuse(
                    "cycle",
                    "quest prerequisites loop: " + " -> ".join(cycle),
                    "quests",
                    patch_quests[first],
                    "prerequisites",
                )

    def check_behavior(self, index: int, behavior: NpcBehavior) -> None:
        at = ("npc_behaviors", index)
        if behavior.initial not in behavior.states:
            self.refuse(
                "unresolved_reference", f"initial state {behavior.initial!r} is not a state", *at, "initial"
            )
        for name, state in behavior.states.items():
            for t_index, transition in enumerate(state.transitions):
                if transition.to not in behavior.states:
                    self.refuse(
                        "unresolved_reference",
                        f"transition to unknown state {transition.to!r}",
                        *at,
                        "states",
                        name,
                        "transitions",
                        t_index,
                        "to",
                    )
        if behavior.plan is None:
            return
        steps: dict[str, int] = {}
        for s_index, step in enumerate(behavior.plan.steps):
            if step.id in steps:
                self.refuse(
                    "duplicate_id",
                    f"plan step {step.id!r} appears more than once",
                    *at,
                    "plan",
                    "steps",
                    s_index,
                    "id",
                )
            steps.setdefault(step.id, s_index)
        for s_index, step in enumerate(behavior.plan.steps):
            for a_index, parent in enumerate(step.after):
                if parent not in steps:
                    self.refuse(
                        "unresolved_reference",
                        f"plan step {step.id!r} waits for unknown step {parent!r}",
                        *at,
                        "plan",
                        "steps",
                        s_index,
                        "after",
                        a_index,
                    )
        parents = {s.id: [p for p in s.after if p in steps] for s in behavior.plan.steps}
        for cycle in find_cycles(list(steps), lambda s: parents.get(s, [])):
            self.refuse(
                "cycle",
                "plan steps wait for each other: " + " -> ".join(reversed(cycle)),
                *at,
                "plan",
                "steps",
                steps[cycle[0]],
                "after",
            )

    def check_dialogue(self, index: int, dialogue: Dialogue) -> None:
        line_ids: set[str] = set()
        for l_index, line in enumerate(dialogue.lines):
            at = ("dialogue", index, "lines", l_index)
            if line.id in line_ids:
                self.refuse("duplicate_id", f"line id {line.id!r} appears more than once", *at, "id")
            line_ids.add(line.id)
            self.check_text(line.text, *at, "text")
            for problem in placeholder_problems(line.text):
                self.refuse("bad_placeholder", problem, *at, "text")
        for l_index, line in enumerate(dialogue.lines):
            for n_index, next_id in enumerate(line.next):
                if next_id not in line_ids:
                    self.refuse(
                        "unresolved_reference",
                        f"next line {next_id!r} is not a line of this dialogue",
                        "dialogue",
                        index,
                        "lines",
                        l_index,
                        "next",
                        n_index,
                    )

    def check_text(self, text: str, *segments: Any) -> None:
        terms = find_banned_terms(text)
        if terms:
            masked = ", ".join(t[0] + "*" * (len(t) - 1) for t in terms)
            self.refuse("banned_term", f"text contains a banned term ({masked})", *segments)

    def check_trait(self, index: int, trait: Trait) -> None:
        if trait.script is None:
            return
        script = self.view["scripts"].get(trait.script)
        if isinstance(script, Script) and script.language != trait.kind:
            self.refuse(
                "kind_mismatch",
                f"a {trait.kind} trait cannot run {trait.script!r}, a {script.language} script",
                "traits",
                index,
                "script",
            )

    def run(self) -> list[Reason]:
        self.reasons.extend(self.catalog.check(self.content, path_prefix=self.prefix))
        self.check_references()
        self.check_removals()
        self.check_quest_cycles()
        for domain, index, obj in self.patch_objects():
            if isinstance(obj, NpcBehavior):
                self.check_behavior(index, obj)
            elif isinstance(obj, Dialogue):
                self.check_dialogue(index, obj)
            elif isinstance(obj, Trait):
                self.check_trait(index, obj)
            for field in _TEXT_FIELDS:
                text = getattr(obj, field, None)
                if isinstance(text, str):
                    self.check_text(text, domain, index, field)
        return self.reasons


def lint_content(content: PatchContent, catalog: Catalog, *, path_prefix: str = "") -> list[Reason]:
    """Every static reason ``content`` cannot go onto ``catalog``; empty when it can.

    Includes ``catalog.check(content)``. Paths are JSON pointers from the content root, after
    ``path_prefix`` (``"/content"`` for content inside an envelope)."""
    return _Linter(content, catalog, path_prefix).run()
