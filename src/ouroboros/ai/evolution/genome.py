"""Trait programs as typed trees, for genetic programming, and their rendering to Lua.

A ``Program`` is a tuple of rules, each ``if <condition> then <action>`` over one molbot ``i``
of a petri trait call. Types keep every program valid by construction:

- an ``Expr`` is an integer: a readable ``ctx`` field, a constant, a derived value
  (``energy_pm`` = energy per mille of max energy, ``speed`` = |vx|+|vy|) or an operation
  (``+``, ``-``, fixed-point ``*`` (Q16), ``min``, ``max``) over two expressions;
- a ``Cond`` compares two expressions (``<`` or ``>``), or is always true;
- an ``Action`` steers (towards food, towards or away from the crowd) with a bounded strength,
  brakes (thrust against the velocity, per mille), or asks for energy (bounded by the dish's
  ``max_trait_energy_gain_fp`` anyway).

What it promises: ``render(program)`` is a Lua trait (``function act(ctx)``) that passes
``ouroboros.sandbox.checks.check_script``, uses integers only, never divides by zero and keeps
every intent within the sandbox's bound; ``random_program``, ``mutate`` and ``crossover`` are
deterministic functions of their ``SeededDraws``; programs round-trip through ``to_data`` /
``from_data`` (plain JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ouroboros.ai.proposals import SeededDraws
from ouroboros.errors import BadInputError
from ouroboros.sandbox import READABLE_FIELDS

ONE = 1 << 16
#: what a rule may read: the sandbox's readable fields, less ids and absolute positions (a rule is
#: about what a molbot senses and holds, not where in the dish it is)
FIELDS = tuple(f for f in READABLE_FIELDS if f not in ("ids", "x", "y"))
DERIVED = ("energy_pm", "speed")
OPS = ("+", "-", "*", "min", "max")
TARGETS = ("food", "crowd", "away_crowd")
MAX_STRENGTH = 8 * ONE  # a steer never asks for more than the largest thrust gene could give
MAX_BRAKE_PERMILLE = 4000
MAX_GAIN = ONE // 40
MAX_RULES = 6
MAX_DEPTH = 3
INTENT_LIMIT = 16 * ONE  # per axis, well inside the sandbox's ±2^32


@dataclass(frozen=True)
class Expr:
    kind: str  # "field" | "const" | "derived" | "op"
    name: str = ""  # field or derived name, or the operator
    value: int = 0
    args: tuple[Expr, ...] = ()

    def depth(self) -> int:
        return 1 + max((a.depth() for a in self.args), default=0)


@dataclass(frozen=True)
class Cond:
    op: str  # "<" | ">" | "true"
    lhs: Expr | None = None
    rhs: Expr | None = None


@dataclass(frozen=True)
class Action:
    kind: str  # "steer" | "brake" | "gain"
    target: str = ""  # steer: one of TARGETS
    strength: Expr | None = None  # steer: Q16 thrust asked for
    amount: int = 0  # brake: per mille of velocity; gain: Q16 energy


@dataclass(frozen=True)
class Rule:
    cond: Cond
    action: Action


@dataclass(frozen=True)
class Program:
    rules: tuple[Rule, ...]

    def size(self) -> int:
        """Nodes in the program: what a parsimony pressure counts."""
        total = 0
        for rule in self.rules:
            total += 2
            for e in (rule.cond.lhs, rule.cond.rhs, rule.action.strength):
                total += _count(e)
        return total


def _count(e: Expr | None) -> int:
    return 0 if e is None else 1 + sum(_count(a) for a in e.args)


# -- building and changing -------------------------------------------------------------------------


def const(value: int) -> Expr:
    return Expr("const", value=value)


def field(name: str) -> Expr:
    return Expr("field", name=name)


def derived(name: str) -> Expr:
    return Expr("derived", name=name)


def random_expr(draws: SeededDraws, depth: int = 0) -> Expr:
    if depth >= MAX_DEPTH - 1 or draws.below(3) == 0:
        pick = draws.below(10)
        if pick < 4:
            return field(draws.choice(FIELDS))
        if pick < 7:
            return derived(draws.choice(DERIVED))
        return const(draws.between(-2 * ONE, 4 * ONE) if draws.below(2) else draws.between(0, 1000))
    return Expr(
        "op", name=draws.choice(OPS), args=(random_expr(draws, depth + 1), random_expr(draws, depth + 1))
    )


def random_cond(draws: SeededDraws) -> Cond:
    if draws.below(3) == 0:
        return Cond("true")
    return Cond(draws.choice(("<", ">")), random_expr(draws, 1), random_expr(draws, 1))


def random_action(draws: SeededDraws) -> Action:
    kind = draws.choice(("steer", "steer", "brake", "gain"))
    if kind == "steer":
        strength = draws.choice((field("thrust"), const(draws.between(0, 2 * ONE)), random_expr(draws, 1)))
        return Action("steer", target=draws.choice(TARGETS), strength=strength)
    if kind == "brake":
        return Action("brake", amount=draws.between(100, MAX_BRAKE_PERMILLE))
    return Action("gain", amount=draws.between(0, MAX_GAIN))


def random_rule(draws: SeededDraws) -> Rule:
    return Rule(random_cond(draws), random_action(draws))


def random_program(draws: SeededDraws, rules: int | None = None) -> Program:
    count = rules if rules is not None else draws.between(1, 3)
    return Program(tuple(random_rule(draws) for _ in range(max(1, min(count, MAX_RULES)))))


def _mutate_expr(e: Expr, draws: SeededDraws, depth: int = 1) -> Expr:
    roll = draws.below(4)
    if roll == 0 or (e.kind != "op" and roll == 1):
        return random_expr(draws, depth)
    if e.kind == "const":
        return const(e.value + draws.between(-abs(e.value) // 2 - 64, abs(e.value) // 2 + 64))
    if e.kind == "op":
        i = draws.below(2)
        args = list(e.args)
        args[i] = _mutate_expr(args[i], draws, depth + 1)
        return Expr("op", name=e.name, args=tuple(args))
    return e


def _mutate_rule(rule: Rule, draws: SeededDraws) -> Rule:
    a, c = rule.action, rule.cond
    roll = draws.below(5)
    if roll == 0:
        return Rule(random_cond(draws), a)
    if roll == 1 and c.lhs is not None and c.rhs is not None:
        return Rule(Cond(c.op, _mutate_expr(c.lhs, draws), _mutate_expr(c.rhs, draws)), a)
    if roll == 2:
        return Rule(c, random_action(draws))
    if a.kind == "steer" and a.strength is not None:
        if draws.below(2):
            return Rule(c, Action("steer", draws.choice(TARGETS), a.strength))
        return Rule(c, Action("steer", a.target, _mutate_expr(a.strength, draws)))
    low, high = (0, MAX_GAIN) if a.kind == "gain" else (0, MAX_BRAKE_PERMILLE)
    step = max(1, (high - low) // 4)
    return Rule(c, Action(a.kind, amount=min(high, max(low, a.amount + draws.between(-step, step)))))


def mutate(program: Program, draws: SeededDraws, bias: dict[str, int] | None = None) -> Program:
    """One change: add, drop, replace or tweak a rule. ``bias`` (operator -> weight) tilts the
    choice, e.g. towards ``shrink`` after a candidate ran out of its budget, or towards
    ``add_brake`` / ``add_gain`` after one burned its energy."""
    weights = {"tweak": 6, "add": 2, "drop": 1, "replace": 1, "shrink": 0, "add_brake": 0, "add_gain": 0}
    weights.update(bias or {})
    ops = [op for op, w in sorted(weights.items()) for _ in range(max(0, w))]
    op = draws.choice(ops) if ops else "tweak"
    rules = list(program.rules)
    if op in ("drop", "shrink") and len(rules) > 1:
        rules.pop(draws.below(len(rules)))
    elif op == "add" and len(rules) < MAX_RULES:
        rules.insert(draws.below(len(rules) + 1), random_rule(draws))
    elif op == "add_brake" and len(rules) < MAX_RULES:
        rules.append(Rule(random_cond(draws), Action("brake", amount=draws.between(500, MAX_BRAKE_PERMILLE))))
    elif op == "add_gain" and len(rules) < MAX_RULES:
        rules.append(Rule(Cond("true"), Action("gain", amount=draws.between(MAX_GAIN // 2, MAX_GAIN))))
    elif op == "replace":
        rules[draws.below(len(rules))] = random_rule(draws)
    else:
        i = draws.below(len(rules))
        rules[i] = _mutate_rule(rules[i], draws)
    return Program(tuple(rules[:MAX_RULES]))


def crossover(a: Program, b: Program, draws: SeededDraws) -> Program:
    """A prefix of ``a``'s rules and a suffix of ``b``'s (at least one rule, at most ``MAX_RULES``)."""
    cut_a = draws.between(1, len(a.rules))
    cut_b = draws.below(len(b.rules) + 1)
    rules = a.rules[:cut_a] + b.rules[cut_b:]
    return Program(rules[:MAX_RULES])


# -- Lua -------------------------------------------------------------------------------------------

_HEADER = """\
-- Evolved by ouroboros.ai.evolution (genetic programming over typed rules).
local function sdiv(a, b)
  if b == 0 then return 0 end
  return a // b
end
local function clamp(v, lo, hi)
  if v < lo then return lo end
  if v > hi then return hi end
  return v
end
local function l1(x, y)
  local ax, ay = x, y
  if ax < 0 then ax = -ax end
  if ay < 0 then ay = -ay end
  return ax + ay
end
"""


def _lua_expr(e: Expr, used: set[str]) -> str:
    if e.kind == "const":
        return f"({e.value})" if e.value < 0 else str(e.value)
    if e.kind == "field":
        used.add(e.name)
        return f"{e.name}[i]"
    if e.kind == "derived":
        if e.name == "energy_pm":
            used.update(("energy", "max_energy"))
            return "sdiv(energy[i] * 1000, max_energy[i])"
        used.update(("vx", "vy"))
        return "l1(vx[i], vy[i])"
    a, b = (_lua_expr(x, used) for x in e.args)
    # Operands are clamped so that no product can overflow 64 bits.
    a, b = (f"clamp({x}, -{1 << 40}, {1 << 40})" for x in (a, b))
    if e.name == "*":
        return f"(({a} * clamp({b}, -{1 << 20}, {1 << 20})) // 65536)"
    if e.name in ("min", "max"):
        return f"math.{e.name}({a}, {b})"
    return f"({a} {e.name} {b})"


def _lua_rule(rule: Rule, used: set[str]) -> list[str]:
    c, a = rule.cond, rule.action
    if a.kind == "steer" and a.strength is not None:
        dx, dy, sign = {
            "food": ("food_dx", "food_dy", ""),
            "crowd": ("crowd_dx", "crowd_dy", ""),
            "away_crowd": ("crowd_dx", "crowd_dy", "-"),
        }[a.target]
        used.update((dx, dy))
        s = f"clamp({_lua_expr(a.strength, used)}, 0, {MAX_STRENGTH})"
        op = "-" if sign else "+"
        big = 1 << 40
        body = [
            f"local s = {s}",
            f"local dx, dy = clamp({dx}[i], -{big}, {big}), clamp({dy}[i], -{big}, {big})",
            "local len = l1(dx, dy)",
            f"ax = ax {op} sdiv(dx * s, len)",
            f"ay = ay {op} sdiv(dy * s, len)",
        ]
    elif a.kind == "brake":
        used.update(("vx", "vy"))
        k = max(0, min(a.amount, MAX_BRAKE_PERMILLE))
        body = [f"ax = ax - sdiv(vx[i] * {k}, 1000)", f"ay = ay - sdiv(vy[i] * {k}, 1000)"]
    else:
        body = [f"g = g + {max(0, min(a.amount, MAX_GAIN))}"]
    if c.op == "true" or c.lhs is None or c.rhs is None:
        return ["do", *("  " + line for line in body), "end"]
    test = f"{_lua_expr(c.lhs, used)} {c.op} {_lua_expr(c.rhs, used)}"
    return [f"if {test} then", *("  " + line for line in body), "end"]


def render(program: Program) -> str:
    """The Lua source of ``program``: one ``act(ctx)`` looping over the carriers."""
    used: set[str] = set()
    lines: list[str] = []
    for rule in program.rules:
        lines += _lua_rule(rule, used)
    gains = any(r.action.kind == "gain" for r in program.rules)
    out = [_HEADER, "function act(ctx)", "  local n = ctx.n"]
    out += [f"  local {name} = ctx.{name}" for name in sorted(used)]
    out.append("  local tx, ty = ctx.thrust_x, ctx.thrust_y")
    if gains:
        out.append("  local eg = ctx.energy_gain")
    out.append("  for i = 1, n do")
    out.append("    local ax, ay, g = 0, 0, 0")
    out += ["    " + line for line in lines]
    out.append(f"    tx[i] = tx[i] + clamp(ax, -{INTENT_LIMIT}, {INTENT_LIMIT})")
    out.append(f"    ty[i] = ty[i] + clamp(ay, -{INTENT_LIMIT}, {INTENT_LIMIT})")
    if gains:
        out.append(f"    eg[i] = eg[i] + clamp(g, 0, {MAX_GAIN})")
    out += ["  end", "end", ""]
    return "\n".join(out)


# -- plain data ------------------------------------------------------------------------------------


def _expr_data(e: Expr | None) -> Any:
    if e is None:
        return None
    if e.kind == "const":
        return e.value
    if e.kind in ("field", "derived"):
        return e.name
    return [e.name, *(_expr_data(a) for a in e.args)]


def _expr_from(d: Any) -> Expr:
    if isinstance(d, bool):
        raise BadInputError(f"not an expression: {d!r}")
    if isinstance(d, int):
        return const(d)
    if isinstance(d, str) and d in FIELDS:
        return field(d)
    if isinstance(d, str) and d in DERIVED:
        return derived(d)
    if isinstance(d, list) and len(d) == 3 and d[0] in OPS:
        return Expr("op", name=d[0], args=(_expr_from(d[1]), _expr_from(d[2])))
    raise BadInputError(f"not an expression: {d!r}")


def to_data(program: Program) -> list[dict[str, Any]]:
    out = []
    for r in program.rules:
        cond: Any = (
            "true" if r.cond.op == "true" else [r.cond.op, _expr_data(r.cond.lhs), _expr_data(r.cond.rhs)]
        )
        a = r.action
        act: dict[str, Any] = {"kind": a.kind}
        if a.kind == "steer":
            act.update(target=a.target, strength=_expr_data(a.strength))
        else:
            act["amount"] = a.amount
        out.append({"if": cond, "then": act})
    return out


def from_data(data: Any) -> Program:
    """The program ``to_data`` wrote; ``BadInputError`` for anything else."""
    if not isinstance(data, list) or not 1 <= len(data) <= MAX_RULES:
        raise BadInputError(f"a program is a list of 1..{MAX_RULES} rules")
    rules = []
    for item in data:
        if not isinstance(item, dict) or set(item) != {"if", "then"}:
            raise BadInputError('a rule is {"if": ..., "then": ...}')
        c = item["if"]
        if c == "true":
            cond = Cond("true")
        elif isinstance(c, list) and len(c) == 3 and c[0] in ("<", ">"):
            cond = Cond(c[0], _expr_from(c[1]), _expr_from(c[2]))
        else:
            raise BadInputError(f"not a condition: {c!r}")
        a = item["then"]
        kind = a.get("kind") if isinstance(a, dict) else None
        if kind == "steer" and a.get("target") in TARGETS:
            action = Action("steer", target=a["target"], strength=_expr_from(a.get("strength")))
        elif kind in ("brake", "gain") and isinstance(a.get("amount"), int):
            action = Action(kind, amount=a["amount"])
        else:
            raise BadInputError(f"not an action: {a!r}")
        rules.append(Rule(cond, action))
    return Program(tuple(rules))


__all__ = [
    "Action",
    "Cond",
    "Expr",
    "Program",
    "Rule",
    "crossover",
    "from_data",
    "mutate",
    "random_program",
    "render",
    "to_data",
]
