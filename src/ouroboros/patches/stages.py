"""The pipeline's stages, each its own unit: given what it needs, it returns the reasons it
refuses (``[]`` passes) and the evidence it measured. No stage writes the ledger or the world.

1. ``integrity``   bundle hash, signatures, keys allowed for the domains (with thresholds),
                   lineage (parent is the active version, sequence exactly parent + 1, never seen
                   before), expiry (and a lifetime of at most ``MAX_BUNDLE_LIFETIME``) — the
                   attacks TUF names: rollback, fast-forward, freeze, mix-and-match, a key below
                   threshold. ``recheck`` repeats all but the lineage (at approval time).
2. ``schema``      the envelope and content schemas (exact ``schema_version``), ``engine_compat``
                   against the running engine, the target world. Stages 1 and 2 run once per
                   submit, inside ``door.verify``, which makes the ``VerifiedBundle`` the
                   later stages take; ``numbers.numbers`` then holds a machine-made bundle to
                   the guardrails' numbers.
3. ``static``      content lint and referential integrity against the active version, the
                   world's own checks, script inspection by the sandbox.
4. ``determinism`` the patch applied to two forks run the same ticks must give identical digests;
                   tick time and state size within budget.
5. ``shadow``      a fork with the patch against a fork without it, K ticks: the metrics the
                   world requires (``WorldSpec.shadow_limits``) within its limits; missing metrics
                   fail, an undecidable comparison is ``inconclusive`` (a human decides).
6. ``policy``      automatic within thresholds, or human approval for the domains that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Protocol

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from ouroboros.content.envelope import MAX_LIFETIME
from ouroboros.content.patch import PatchContent
from ouroboros.engine import ENGINE_VERSION, World
from ouroboros.errors import BadInputError, ContentError, OuroborosError, Reason
from ouroboros.patches.bundle import BUNDLE_KIND, bundle_hash, compute_patch_id, signed_part, touched_domains
from ouroboros.patches.keys import Keyring
from ouroboros.tracing import traced

PATCH_ID_PATTERN = r"^p-[0-9a-f]{32}$"
#: A bundle may live at most this long (freeze: a signed bundle cannot be kept for later forever).
MAX_BUNDLE_LIFETIME = MAX_LIFETIME

ShadowLimits = Mapping[str, Mapping[str, int]]
#: The limits a shadow metric may carry (see ``ouroboros.worlds.WorldSpec.shadow_limits``).
LIMIT_RULES = frozenset({"max_drift_permille", "min_permille", "max_increase", "min_gain", "min_baseline"})
_MAX_TICKS = 1_000_000


@dataclass(frozen=True)
class Budgets:
    """Limits the determinism, shadow and policy stages hold a patch to. ``shadow_limits``
    overrides the world's own limits, metric by metric (``{"money_supply": {...}}``)."""

    warmup_ticks: int = 10
    determinism_ticks: int = 30
    shadow_ticks: int = 120
    canary_ticks: int = 60
    tick_budget_ms: float = 250.0
    state_growth_max_permille: int = 3000  # patched state ≤ 3× the baseline's bytes
    human_domains: frozenset[str] = field(default_factory=lambda: frozenset({"economy_tuning"}))
    shadow_limits: ShadowLimits = field(default_factory=dict)

    @classmethod
    def from_overrides(cls, overrides: Any, where: str = "world.json budgets") -> Budgets:
        """Budgets from a JSON object of overrides, every value type- and bounds-checked.
        Raises ``BadInputError`` naming the first bad value."""
        if not isinstance(overrides, Mapping):
            raise BadInputError(f"{where} must be an object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise BadInputError(f"{where}: unknown budgets {unknown} (known: {', '.join(sorted(known))})")
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            if name == "human_domains":
                values[name] = _domain_set(value, f"{where}.{name}")
            elif name == "shadow_limits":
                values[name] = check_shadow_limits(value, f"{where}.{name}")
            elif name == "tick_budget_ms":
                if not _is_number(value) or not 0 < value <= 60_000:
                    raise BadInputError(f"{where}.{name} must be a number of ms above 0 and at most 60000")
                values[name] = float(value)
            else:
                low, high = _INT_BOUNDS[name]
                if not _is_int(value) or not low <= value <= high:
                    raise BadInputError(
                        f"{where}.{name} must be an integer from {low} to {high}, not {value!r}"
                    )
                values[name] = value
        return cls(**values)


_INT_BOUNDS = {
    "warmup_ticks": (0, _MAX_TICKS),
    "determinism_ticks": (1, _MAX_TICKS),  # 0 would skip stage 4
    "shadow_ticks": (1, _MAX_TICKS),  # 0 would skip stage 5
    "canary_ticks": (1, _MAX_TICKS),
    "state_growth_max_permille": (1000, 1_000_000),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _domain_set(value: Any, where: str) -> frozenset[str]:
    from ouroboros.content import DOMAINS

    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        raise BadInputError(f"{where} must be a list of domain names")
    unknown = sorted(set(value) - set(DOMAINS))
    if unknown:
        raise BadInputError(f"{where}: unknown domains {unknown}")
    return frozenset(value)


def check_shadow_limits(value: Any, where: str = "shadow_limits") -> dict[str, dict[str, int]]:
    """``{metric: {rule: integer ≥ 0}}`` with rules from ``LIMIT_RULES``, or ``BadInputError``."""
    if not isinstance(value, Mapping):
        raise BadInputError(f"{where} must be an object of metric → limits")
    out: dict[str, dict[str, int]] = {}
    for metric, rules in value.items():
        if not isinstance(metric, str) or not isinstance(rules, Mapping):
            raise BadInputError(f"{where}.{metric} must be an object of limits")
        bad = sorted(set(rules) - LIMIT_RULES)
        if bad:
            raise BadInputError(
                f"{where}.{metric}: unknown limits {bad} (known: {', '.join(sorted(LIMIT_RULES))})"
            )
        for rule, limit in rules.items():
            if not _is_int(limit) or not 0 <= limit <= 10**12:
                raise BadInputError(f"{where}.{metric}.{rule} must be an integer of 0 or more")
        out[metric] = dict(rules)
    return out


class Lineage(Protocol):
    """What integrity needs to know about history (the ledger answers it)."""

    def known(self, patch_id: str) -> bool: ...
    def sequence_of(self, patch_id: str) -> int | None: ...
    def ever_active(self, patch_id: str) -> bool: ...


def _r(stage: str, code: str, path: str, message: str) -> Reason:
    return Reason(stage, code, path, message)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


# -- 1. integrity --------------------------------------------------------------------------------
@traced("stage.integrity")
def integrity(
    doc: Any, keyring: Keyring, lineage: Lineage, active: str | None, now: datetime | None = None
) -> tuple[list[Reason], dict[str, Any]]:
    """Refusals of stage 1, and evidence: the bundle hash and the key ids whose signatures hold."""
    reasons, evidence = _authentic(doc, keyring)
    if not evidence or "signers" not in evidence:  # not even a well-formed, self-naming bundle
        return reasons, evidence
    reasons.extend(_lineage(doc, lineage, active, doc["patch_id"]))
    reasons.extend(_freshness(doc, now or datetime.now(UTC)))
    return reasons, evidence


def recheck(doc: Any, keyring: Keyring, now: datetime | None = None) -> tuple[list[Reason], dict[str, Any]]:
    """Stage 1 again for a recorded bundle (lineage is the caller's): hash, signatures against
    today's keyring, and expiry — a person's approval cannot revive an expired or untrusted one."""
    reasons, evidence = _authentic(doc, keyring)
    if evidence and "signers" in evidence:
        reasons.extend(_freshness(doc, now or datetime.now(UTC)))
    return reasons, evidence


def _authentic(doc: Any, keyring: Keyring) -> tuple[list[Reason], dict[str, Any]]:
    stage = "integrity"
    if not isinstance(doc, Mapping):
        return [_r(stage, "malformed", "", "a bundle is a JSON object")], {}
    reasons: list[Reason] = []
    patch_id = doc.get("patch_id")
    try:
        expected_id = compute_patch_id(doc)
        digest = bundle_hash(doc)
    except OuroborosError as exc:
        return [_r(stage, "malformed", "", f"bundle cannot be canonicalised: {exc.message}")], {}
    if not isinstance(patch_id, str) or patch_id != expected_id:
        return [
            _r(
                stage,
                "hash_mismatch",
                "/patch_id",
                "the bundle's contents do not hash to its patch_id (changed after it was made)",
            )
        ], {}
    evidence: dict[str, Any] = {"bundle_hash": digest}
    signatures = doc.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        reasons.append(_r(stage, "unsigned", "/signatures", "the bundle carries no signature"))
        signers: set[str] = set()
    elif any(not isinstance(sig, Mapping) or set(sig) != {"keyid", "sig"} for sig in signatures):
        return [
            _r(stage, "malformed_signature", "/signatures", "each signature is exactly {keyid, sig}")
        ], evidence
    elif len({sig["keyid"] for sig in signatures if isinstance(sig["keyid"], str)}) != len(signatures):
        return [_r(stage, "duplicate_signature", "/signatures", "a key signs a bundle once")], evidence
    else:
        signers, problems = keyring.valid_signers(BUNDLE_KIND, signed_part(doc), signatures)
        for problem in problems:
            code, _, keyid = problem.partition(":")
            text = (
                "signed by a key not in the keyring"
                if code == "unknown_key"
                else "a signature does not verify (wrong key or altered bundle)"
            )
            reasons.append(_r(stage, code, "/signatures", f"{text}: {keyid[:16]}"))
    evidence["signers"] = sorted(signers)
    for domain in touched_domains(doc.get("content")):
        if not signers:
            break
        allowed = keyring.count_allowed(signers, domain)
        need = keyring.threshold(domain)
        if allowed == 0:
            reasons.append(
                _r(
                    stage,
                    "key_not_allowed",
                    f"/content/{domain}",
                    f"no signing key is allowed to sign {domain}",
                )
            )
        elif allowed < need:
            reasons.append(
                _r(
                    stage,
                    "below_threshold",
                    f"/content/{domain}",
                    f"{domain} needs {need} signatures from allowed keys, has {allowed}",
                )
            )
    return reasons, evidence


def _lineage(doc: Mapping[str, Any], lineage: Lineage, active: str | None, patch_id: str) -> list[Reason]:
    stage = "integrity"
    if lineage.known(patch_id):
        return [
            _r(
                stage,
                "replayed",
                "/patch_id",
                f"patch {patch_id} was submitted before; a patch is taken once",
            )
        ]
    parent, sequence = doc.get("parent_patch_id"), doc.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool):
        return [_r(stage, "malformed", "/sequence", "sequence must be an integer")]
    if parent is not None and not isinstance(parent, str):
        return [_r(stage, "malformed", "/parent_patch_id", "parent_patch_id must be a string or null")]
    if parent != active:
        if parent is not None and not lineage.ever_active(parent):
            return [
                _r(
                    stage,
                    "unknown_parent",
                    "/parent_patch_id",
                    f"parent {parent} never was an active version (mix-and-match)",
                )
            ]
        return [
            _r(
                stage,
                "stale_parent",
                "/parent_patch_id",
                f"parent {parent} is not the active version {active} (an old or forked lineage)",
            )
        ]
    expected = 0 if parent is None else (lineage.sequence_of(parent) or 0) + 1
    if sequence > expected:
        return [
            _r(
                stage,
                "sequence_inflated",
                "/sequence",
                f"sequence {sequence} skips ahead; the next is {expected} (fast-forward)",
            )
        ]
    if sequence < expected:
        return [
            _r(
                stage,
                "sequence_not_increasing",
                "/sequence",
                f"sequence {sequence} is old; the next is {expected}",
            )
        ]
    return []


def _freshness(doc: Mapping[str, Any], now: datetime) -> list[Reason]:
    created, expires = _parse_time(doc.get("created_at")), _parse_time(doc.get("expires_at"))
    if expires is None or created is None:
        return [
            _r("integrity", "malformed", "/expires_at", "created_at and expires_at must be RFC 3339 times")
        ]
    if expires <= now:
        return [
            _r("integrity", "expired", "/expires_at", f"the bundle expired at {doc['expires_at']} (freeze)")
        ]
    if expires - created > MAX_BUNDLE_LIFETIME:
        return [
            _r(
                "integrity",
                "lifetime_too_long",
                "/expires_at",
                f"expires_at is more than {MAX_BUNDLE_LIFETIME.days} days after created_at (freeze)",
            )
        ]
    if (created - now).total_seconds() > 300:
        return [_r("integrity", "from_the_future", "/created_at", "created_at is ahead of this clock")]
    return []


# -- 2. schema and compatibility -----------------------------------------------------------------
@traced("stage.schema")
def schema(doc: Any, world_name: str, engine_version: str = ENGINE_VERSION) -> tuple[list[Reason], Any]:
    """Refusals of stage 2, and the parsed envelope when it passes."""
    from ouroboros.content import SCHEMA_VERSION, parse_envelope

    if isinstance(doc, Mapping) and doc.get("schema_version") != SCHEMA_VERSION:
        return [
            _r(
                "schema",
                "schema_version",
                "/schema_version",
                f"schema_version must be exactly {SCHEMA_VERSION!r}",
            )
        ], None
    try:
        envelope = parse_envelope(doc)
    except ContentError as exc:
        return [Reason("schema", r.code, r.path, r.message) for r in exc.reasons], None
    reasons = []
    try:
        compatible = Version(engine_version) in SpecifierSet(envelope.engine_compat)
    except InvalidSpecifier:
        compatible = False
    if not compatible:
        reasons.append(
            _r(
                "schema",
                "engine_incompatible",
                "/engine_compat",
                f"engine {engine_version} is outside {envelope.engine_compat!r}",
            )
        )
    if envelope.world != world_name:
        reasons.append(
            _r("schema", "wrong_world", "/world", f"bundle is for {envelope.world}, this is {world_name}")
        )
    return reasons, envelope


# -- 3. static safety ----------------------------------------------------------------------------
ScriptChecker = Callable[[str, str, str, str], list[tuple[str, str]]]


@traced("stage.static")
def static(
    content: PatchContent,
    catalog: Any,
    world_problems: list[tuple[str, str, str]],
    script_checker: ScriptChecker | None = None,
) -> list[Reason]:
    """Content lint and references against the active catalog, the world's own refusals, and the
    sandbox's inspection of every script (``script_checker(language, source, id, version)`` →
    ``[(fault_code, message)]``)."""
    from ouroboros.content import lint_content

    linted = lint_content(content, catalog, path_prefix="/content")
    reasons = [Reason("static", r.code, r.path, r.message) for r in linted]
    reasons += [_r("static", code, path, message) for code, path, message in world_problems]
    if script_checker is not None:
        for i, script in enumerate(getattr(content, "scripts", ()) or ()):
            for code, message in script_checker(
                str(script.language), script.source, script.id, script.version
            ):
                reasons.append(_r("static", f"script_{code}", f"/content/scripts/{i}/source", message))
    return reasons


# -- 4. determinism and budgets ------------------------------------------------------------------
def _activate(world: World, patch_id: str | None, content: Mapping[str, Any]) -> None:
    from ouroboros.worlds import ACTIVATE_INPUT

    world.submit(ACTIVATE_INPUT, {"patch_id": patch_id, "content": dict(content)})


def twin_run(
    a: World,
    b: World,
    ticks: int,
    *,
    stage: str = "determinism",
    step: Callable[[World], None] | None = None,
    every_tick: bool = True,
) -> list[Reason]:
    """Run two forks given the same change ``ticks`` ticks side by side: their digests must agree
    at every tick (``every_tick``) or at the end. ``step`` advances a world one tick (default
    ``World.step``; the evolution cascade's may wait, or raise to stop — that propagates)."""
    advance = step or World.step
    start = a.tick
    for i in range(ticks):
        advance(a)
        advance(b)
        if every_tick and a.digest().hex != b.digest().hex:
            return [
                _r(
                    stage,
                    "nondeterministic",
                    "/content",
                    f"two runs of the same seed diverge at tick {start + i + 1}",
                )
            ]
    if not every_tick and a.digest().hex != b.digest().hex:
        return [
            _r(
                stage,
                "nondeterministic",
                "/content",
                f"two runs of the same seed disagree after {ticks} ticks",
            )
        ]
    return []


@traced("stage.determinism")
def determinism(
    reference: World, patch_id: str, content_after: Mapping[str, Any], budgets: Budgets
) -> tuple[list[Reason], dict[str, Any]]:
    stage = "determinism"
    first, second, unpatched = reference.fork(), reference.fork(), reference.fork()
    try:
        _activate(first, patch_id, content_after)
        _activate(second, patch_id, content_after)
        reasons = twin_run(first, second, budgets.determinism_ticks, stage=stage)
        unpatched.run(budgets.determinism_ticks)
    except Exception as exc:  # a patch that crashes the world is refused, not propagated
        return [_r(stage, "crash", "/content", f"the world failed with the patch applied: {exc!r}")], {}
    final = first.digest().hex if budgets.determinism_ticks else None
    evidence: dict[str, Any] = {"ticks": budgets.determinism_ticks, "final_digest": final}
    p95 = first.profiler.tick_stats()["p95_ms"]
    evidence["tick_p95_ms"] = round(p95, 3)
    if p95 > budgets.tick_budget_ms:
        reasons.append(
            _r(
                stage,
                "tick_budget",
                "/content",
                f"p95 tick time {p95:.1f} ms is over the {budgets.tick_budget_ms} ms budget",
            )
        )
    base_bytes, patched_bytes = len(unpatched.snapshot()), len(first.snapshot())
    evidence["state_bytes"] = {"baseline": base_bytes, "patched": patched_bytes}
    if patched_bytes * 1000 > base_bytes * budgets.state_growth_max_permille:
        reasons.append(
            _r(
                stage,
                "memory_budget",
                "/content",
                f"world state grows to {patched_bytes} bytes against {base_bytes} without the patch",
            )
        )
    return reasons, evidence


# -- 5. shadow simulation ------------------------------------------------------------------------
@dataclass(frozen=True)
class ShadowResult:
    reasons: list[Reason]
    inconclusive: list[str]
    evidence: dict[str, Any]


def compare_metrics(
    stage: str, baseline: Mapping[str, Any], patched: Mapping[str, Any], limits: ShadowLimits
) -> ShadowResult:
    """Compare a patched run's metrics with its baseline under ``limits`` (metric → rules, see
    ``LIMIT_RULES``). Every metric named in ``limits`` is required: missing or not an integer on
    either side is a failure, never a pass. A baseline below ``min_baseline`` is inconclusive.
    ``max_increase``: the patched value may rise at most this much; ``min_gain``: it must rise by
    more than this (the evolution cascade's paired KPI); the permille rules are relative."""
    reasons: list[Reason] = []
    inconclusive: list[str] = []
    for name in limits:
        for side, metrics in (("baseline", baseline), ("patched", patched)):
            value = metrics.get(name) if isinstance(metrics, Mapping) else None
            if not _is_int(value):
                reasons.append(
                    _r(
                        stage,
                        "metric_missing",
                        f"/metrics/{name}",
                        f"the {side} run reported no integer {name}",
                    )
                )
    evidence = {"baseline": dict(baseline or {}), "patched": dict(patched or {})}
    if reasons:
        return ShadowResult(reasons, [], evidence)
    for name, rules in limits.items():
        base, value = baseline[name], patched[name]
        path = f"/metrics/{name}"
        against = f"{name} {value} against {base} without the patch"
        if "max_increase" in rules and value - base > rules["max_increase"]:
            reasons.append(
                _r(
                    stage,
                    f"{name}_increase",
                    path,
                    f"{against} (up {value - base}, at most {rules['max_increase']})",
                )
            )
        if "min_gain" in rules and value - base <= rules["min_gain"]:
            reasons.append(
                _r(
                    stage,
                    f"{name}_not_better",
                    path,
                    f"{against} (up {value - base}, must be more than {rules['min_gain']})",
                )
            )
        relative = [rule for rule in ("max_drift_permille", "min_permille") if rule in rules]
        if not relative:
            continue
        if base < rules.get("min_baseline", 0):
            inconclusive.append(f"baseline {name} {base} is too small to judge")
            continue
        if "max_drift_permille" in rules:
            limit = rules["max_drift_permille"]
            drift = abs(value - base) * 1000 // base if base else (0 if value == base else None)
            if drift is None or drift > limit:
                shown = "from nothing" if drift is None else f"{drift}‰ drift"
                reasons.append(_r(stage, f"{name}_drift", path, f"{against} ({shown}, at most {limit}‰)"))
        if "min_permille" in rules and value * 1000 < base * rules["min_permille"]:
            reasons.append(
                _r(stage, f"{name}_drop", path, f"{against} (below {rules['min_permille']}‰ of the baseline)")
            )
    return ShadowResult(reasons, inconclusive, evidence)


@traced("stage.shadow")
def shadow(
    reference: World,
    patch_id: str,
    content_after: Mapping[str, Any],
    metrics: Callable[[World], Mapping[str, Any]],
    limits: ShadowLimits,
    ticks: int,
    stage: str = "shadow",
) -> ShadowResult:
    """Run a fork with the patch and a fork without it ``ticks`` ticks; compare their metrics."""
    baseline, patched = reference.fork(), reference.fork()
    try:
        _activate(patched, patch_id, content_after)
        for _ in range(ticks):
            baseline.step()
            patched.step()
        base_metrics, patched_metrics = metrics(baseline), metrics(patched)
    except Exception as exc:
        return ShadowResult([_r(stage, "crash", "/content", f"the {stage} run failed: {exc!r}")], [], {})
    result = compare_metrics(stage, base_metrics, patched_metrics, limits)
    result.evidence["ticks"] = ticks
    result.evidence["reference_version"] = reference.resources.get("gameplay_version")
    return result


# -- 6. policy -----------------------------------------------------------------------------------
@traced("stage.policy")
def policy(domains: tuple[str, ...] | list[str], budgets: Budgets) -> tuple[str, list[str]]:
    """``("auto", [])`` or ``("human", [domains that need a person])``."""
    need = sorted(d for d in domains if d in budgets.human_domains)
    return ("human", need) if need else ("auto", [])
