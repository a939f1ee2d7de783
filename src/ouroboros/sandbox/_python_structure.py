"""The gate's rules of shape: what module and class bodies may hold, what a definition may
evaluate when it runs, and the trait contract (``python_gate`` applies them).

Every helper here recurses at most as deep as the tree, which the gate has already bounded
(``MAX_NESTING_DEPTH``) before it calls them; each looks only at the nodes it is handed, so the
gate's work stays linear in the source.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ouroboros.sandbox.faults import Fault, FaultCode


def fault_at(code: FaultCode, node: ast.AST, what: str) -> Fault:
    """A fault naming the line of ``node``."""
    return Fault(code, f"line {getattr(node, 'lineno', 0)}: {what}")


def _is_literal(node: ast.expr | None) -> bool:
    if node is None or isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _is_literal(node.operand)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_is_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(_is_literal(k) and _is_literal(v) for k, v in zip(node.keys, node.values, strict=True))
    return False


def _dotted(node: ast.expr) -> str | None:
    """``name`` or ``name.attr.attr`` as a string (``None``: anything else)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


# What a definition may call while it is being defined: standard decorators and field markers.
SAFE_DECORATORS = frozenset(
    {
        "dataclass", "dataclasses.dataclass", "staticmethod", "classmethod", "property",
        "lru_cache", "functools.lru_cache", "cache", "functools.cache", "cached_property",
        "functools.cached_property", "total_ordering", "functools.total_ordering", "unique",
        "enum.unique", "final", "typing.final",
    }
)  # fmt: skip
SAFE_FIELD_CALLS = frozenset({"field", "dataclasses.field", "auto", "enum.auto"})


def _is_type_expr(node: ast.expr | None, depth: int = 0) -> bool:
    """A literal, a reference, a subscript of those (``list[int]``) or a union (``int | None``)."""
    if node is None or _is_literal(node) or _dotted(node) is not None:
        return True
    if depth > 8:
        return False
    if isinstance(node, ast.Subscript):
        return _is_type_expr(node.value, depth + 1) and _is_type_expr(node.slice, depth + 1)
    if isinstance(node, ast.Tuple | ast.List):
        return all(_is_type_expr(e, depth + 1) for e in node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _is_type_expr(node.left, depth + 1) and _is_type_expr(node.right, depth + 1)
    return False


def _is_safe_call(node: ast.expr, allowed: frozenset[str]) -> bool:
    """``allowed_name(literal or reference, key=literal or reference, …)``."""
    return (
        isinstance(node, ast.Call)
        and _dotted(node.func) in allowed
        and all(_is_literal(a) or _dotted(a) is not None for a in node.args)
        and all(_is_literal(k.value) or _dotted(k.value) is not None for k in node.keywords)
    )


def _is_safe_decorator(node: ast.expr) -> bool:
    name = _dotted(node)
    if name is not None:
        return name in SAFE_DECORATORS or name.rsplit(".", 1)[-1] in {"setter", "getter", "deleter"}
    return _is_safe_call(node, SAFE_DECORATORS)


def _is_value(node: ast.expr | None, where: str) -> bool:
    """A value a module or class body may bind: a literal; in a class, also a reference or a
    field marker (``field(default_factory=list)``, ``auto()``)."""
    if _is_literal(node):
        return True
    assert node is not None
    return where == "class" and (_dotted(node) is not None or _is_safe_call(node, SAFE_FIELD_CALLS))


Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda


def check_definition(node: Definition) -> Iterator[Fault]:
    """What a definition evaluates when it runs: decorators, bases, defaults, annotations."""
    name = "lambda" if isinstance(node, ast.Lambda) else node.name
    for deco in [] if isinstance(node, ast.Lambda) else node.decorator_list:
        if not _is_safe_decorator(deco):
            yield fault_at(FaultCode.MODULE_CODE, deco, f"decorator of '{name}' is not a standard one")
    exprs: list[ast.expr | None]
    if isinstance(node, ast.ClassDef):
        exprs = list(node.bases)
        for keyword in node.keywords:  # metaclass=…, or arguments to an __init_subclass__
            yield fault_at(FaultCode.MODULE_CODE, keyword.value, f"class '{name}' takes no keywords")
    else:
        args = node.args
        every = args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]
        exprs = [a.annotation for a in every if a is not None]
        if not isinstance(node, ast.Lambda):
            exprs.append(node.returns)
        for default in args.defaults + args.kw_defaults:
            if not _is_literal(default) and _dotted(default) is None:  # type: ignore[arg-type]
                yield fault_at(
                    FaultCode.MODULE_CODE, default or node, f"default of '{name}' is not a constant"
                )
    for expr in exprs:
        if not _is_type_expr(expr):
            yield fault_at(FaultCode.MODULE_CODE, expr or node, f"'{name}' evaluates code when defined")


def _check_body(body: list[ast.stmt], where: str) -> Iterator[Fault]:
    for i, stmt in enumerate(body):
        if i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # docstring
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            if where != "module":
                yield fault_at(FaultCode.MODULE_CODE, stmt, f"import inside a {where} body")
            continue
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.ClassDef):
            yield from _check_body(stmt.body, "class")
            continue
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        is_constant = (
            isinstance(stmt, ast.Assign)
            and all(isinstance(t, ast.Name) for t in stmt.targets)
            and _is_value(stmt.value, where)
        ) or (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and _is_type_expr(stmt.annotation)
            and _is_value(stmt.value, where)
        )
        if is_constant:
            continue
        yield fault_at(
            FaultCode.MODULE_CODE,
            stmt,
            f"{type(stmt).__name__} at {where} level (only imports, definitions and constants)",
        )


def check_structure(tree: ast.Module) -> Iterator[Fault]:
    """The module body and every class body reachable from it through class statements. (The
    gate's walker checks every definition, nested ones included, with ``check_definition``.)"""
    yield from _check_body(tree.body, "module")


def _derives_from_trait(cls: ast.ClassDef) -> bool:
    return any(isinstance(b, ast.Name) and b.id == "Trait" for b in cls.bases)


def check_contract(tree: ast.Module) -> Iterator[Fault]:
    traits = [n for n in tree.body if isinstance(n, ast.ClassDef) and _derives_from_trait(n)]
    if len(traits) != 1:
        yield Fault(
            FaultCode.CONTRACT,
            f"line 0: exactly one class deriving from Trait is needed, found {len(traits)}",
        )
        return
    cls = traits[0]
    execute = [
        n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "execute"
    ]
    if len(execute) != 1 or not isinstance(execute[0], ast.AsyncFunctionDef):
        yield fault_at(
            FaultCode.CONTRACT, cls, f"'{cls.name}' needs exactly one 'async def execute(self, entity)'"
        )
        return
    fn = execute[0]
    args = fn.args
    names = [a.arg for a in args.posonlyargs + args.args]
    required_kw = [a for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    if len(names) - len(args.defaults) > 2 or len(names) < 2 or required_kw or fn.decorator_list:
        yield fault_at(FaultCode.CONTRACT, fn, "execute must take (self, entity)")
    if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in ast.walk(fn)):
        yield fault_at(FaultCode.CONTRACT, fn, "execute must not yield (it is a coroutine, not a generator)")
