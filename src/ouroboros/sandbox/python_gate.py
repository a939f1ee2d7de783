"""The static gate for Python traits (the AI-Genesis seed's checks): the first door, not the last.

``check_python_trait(source)`` returns a list of faults, empty when the source may be loaded into
the isolated worker (``python_worker``). It promises, for a source it passes:

- it is at most ``max_source_bytes`` of UTF-8 and parses as Python 3.11;
- it imports only ``ALLOWED_IMPORTS`` (math, random, dataclasses, typing, enum, collections,
  functools, itertools), never a private name from them;
- it never names a banned builtin (``eval``, ``exec``, ``open``, ``getattr``, ``vars``,
  ``__import__``, …), never reads a dunder name or attribute (``__class__``, ``__globals__``,
  ``__subclasses__``, …; only ``__init__`` and ``__post_init__`` are allowed), never a frame or
  code attribute (``gi_frame``, ``f_back``, ``tb_frame``, ``co_code``, …), never a private
  attribute of anything but ``self``/``cls``, never a string that spells a dunder, and never a
  ``str.format``/``format_map`` whose fields reach attributes or items;
- it never names anything that turns a string into code at run time (``get_type_hints``,
  ``ForwardRef``, ``singledispatch``, which evaluates string annotations, …), and never takes
  ``.format`` of anything without calling it there and then;
- module level holds only a docstring, imports, class and function definitions, and constant
  assignments of literals; class bodies likewise (fields may default to simple calls such as
  ``field(default=0)``); decorators, base classes and argument defaults are simple expressions —
  for every ``def`` and ``lambda``, nested ones included;
- exactly one class derives from ``Trait`` and defines ``async def execute(self, entity)``.

``random`` is allowed, but a trait never sees the process-global generator: the worker hands it
a ``random.Random`` reseeded before every batch from the tick's keyed stream (``ctx.rng``), so a
trait's draws replay exactly.

AST filters are known to be escapable, so the worker's process limits are the real boundary;
this gate refuses the obvious early, with a fault per finding naming its line.
"""

from __future__ import annotations

import ast
import hashlib
import re
import string
from collections.abc import Collection, Iterator

from ouroboros.sandbox.faults import Fault, FaultCode

ALLOWED_IMPORTS = frozenset(
    {"math", "random", "dataclasses", "typing", "enum", "collections", "functools", "itertools"}
)
MAX_SOURCE_BYTES = 64 * 1024
MAX_FAULTS = 50

# What turns a string built at run time into code or into an attribute access: typing resolves
# string annotations (and functools.singledispatch resolves them through typing);
# functools.update_wrapper/wraps read and copy attributes by name, and make_dataclass makes
# attributes of any name. The worker hands out its modules without these too; the gate refuses
# them by name anywhere, and (but for the common word ``wraps``) spelled inside a string.
EVALUATORS = frozenset(
    {
        "get_type_hints", "ForwardRef", "evaluate_forward_ref", "singledispatch",
        "singledispatchmethod", "get_annotations", "literal_eval", "update_wrapper", "wraps",
        "make_dataclass",
    }
)  # fmt: skip
BANNED_NAMES = EVALUATORS | frozenset(
    {
        "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr",
        "hasattr", "globals", "locals", "vars", "dir", "breakpoint", "input", "memoryview",
        "help", "exit", "quit", "copyright", "credits", "license", "importlib", "sys", "os",
        "builtins",
    }
)  # fmt: skip
# Attributes that lead from an object to its frame, code or globals: refused anywhere, even
# spelled inside a string (a format field or a lookup table could use them).
FRAME_ATTRIBUTES = frozenset(
    {
        "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "cr_origin",
        "ag_frame", "ag_code", "ag_await", "f_back", "f_globals", "f_locals", "f_builtins",
        "f_code", "f_trace", "f_lasti", "tb_frame", "tb_next", "co_code", "co_consts",
        "co_names", "func_globals", "func_code", "_getframe",
    }
)  # fmt: skip
# Attributes that lead to modules, class internals or the builtins, or read objects by name.
BANNED_ATTRIBUTES = (
    FRAME_ATTRIBUTES
    | EVALUATORS
    | frozenset(
        {
            "mro", "format_map", "sys", "os", "builtins", "modules", "importlib", "eval", "exec",
            "compile", "open", "getattr", "setattr", "delattr", "globals", "locals", "vars",
        }
    )
)  # fmt: skip
ALLOWED_DUNDER_ATTRIBUTES = frozenset({"__init__", "__post_init__"})
_DUNDER = re.compile(r"__\w+__")
_SPELLED = sorted(FRAME_ATTRIBUTES | EVALUATORS - {"wraps"})
_BANNED_IN_STRINGS = re.compile(r"__\w+__|\b(" + "|".join(_SPELLED) + r")\b")
_PRIVATE_OK_BASES = frozenset({"self", "cls"})


def source_sha256(source: str) -> str:
    """The dedup key of a trait: SHA-256 of its UTF-8 bytes, hex."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def check_python_trait(
    source: str, *, known_sha256: Collection[str] = (), max_source_bytes: int = MAX_SOURCE_BYTES
) -> list[Fault]:
    """Every reason to refuse ``source`` (empty: it may go to the worker). ``known_sha256`` holds
    the hashes already registered; a match is a ``DUPLICATE``."""
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > max_source_bytes:
        return [Fault(FaultCode.SOURCE_TOO_LARGE, f"source is {size} bytes, more than {max_source_bytes}")]
    if known_sha256 and source_sha256(source) in known_sha256:
        return [
            Fault(
                FaultCode.DUPLICATE, f"the same source (sha256 {source_sha256(source)[:12]}…) is registered"
            )
        ]
    try:
        tree = ast.parse(source, filename="<trait>", type_comments=False)
    except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes
        line = getattr(exc, "lineno", None) or 0
        return [Fault(FaultCode.SYNTAX, f"line {line}: {getattr(exc, 'msg', None) or exc}")]
    except RecursionError:
        return [Fault(FaultCode.SYNTAX, "line 0: nesting too deep to parse")]
    faults: list[Fault] = []
    for fault in _check(tree):
        faults.append(fault)
        if len(faults) >= MAX_FAULTS:
            break
    return faults


def _fault(code: FaultCode, node: ast.AST, what: str) -> Fault:
    return Fault(code, f"line {getattr(node, 'lineno', 0)}: {what}")


def _check(tree: ast.Module) -> Iterator[Fault]:
    yield from _check_structure(tree)
    yield from _check_names(tree)
    yield from _check_contract(tree)


# -- module and class structure ------------------------------------------------------------------


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


def _check_definition(node: Definition) -> Iterator[Fault]:
    """What a definition evaluates when it runs: decorators, bases, defaults, annotations."""
    name = "lambda" if isinstance(node, ast.Lambda) else node.name
    for deco in [] if isinstance(node, ast.Lambda) else node.decorator_list:
        if not _is_safe_decorator(deco):
            yield _fault(FaultCode.MODULE_CODE, deco, f"decorator of '{name}' is not a standard one")
    exprs: list[ast.expr | None]
    if isinstance(node, ast.ClassDef):
        exprs = list(node.bases)
        for keyword in node.keywords:  # metaclass=…, or arguments to an __init_subclass__
            yield _fault(FaultCode.MODULE_CODE, keyword.value, f"class '{name}' takes no keywords")
    else:
        args = node.args
        every = args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]
        exprs = [a.annotation for a in every if a is not None]
        if not isinstance(node, ast.Lambda):
            exprs.append(node.returns)
        for default in args.defaults + args.kw_defaults:
            if not _is_literal(default) and _dotted(default) is None:  # type: ignore[arg-type]
                yield _fault(FaultCode.MODULE_CODE, default or node, f"default of '{name}' is not a constant")
    for expr in exprs:
        if not _is_type_expr(expr):
            yield _fault(FaultCode.MODULE_CODE, expr or node, f"'{name}' evaluates code when defined")


def _check_body(body: list[ast.stmt], where: str) -> Iterator[Fault]:
    for i, stmt in enumerate(body):
        if i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # docstring
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            if where != "module":
                yield _fault(FaultCode.MODULE_CODE, stmt, f"import inside a {where} body")
            continue
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.ClassDef):
            yield from _check_definition(stmt)
            yield from _check_body(stmt.body, "class")
            continue
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _check_definition(stmt)
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
        yield _fault(
            FaultCode.MODULE_CODE,
            stmt,
            f"{type(stmt).__name__} at {where} level (only imports, definitions and constants)",
        )


def _check_structure(tree: ast.Module) -> Iterator[Fault]:
    yield from _check_body(tree.body, "module")
    # Definitions inside functions run whenever their function does: the same rules hold there.
    nested: dict[int, Definition] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            body = [fn.body] if isinstance(fn, ast.Lambda) else fn.body
            for stmt in body:
                nested.update((id(n), n) for n in ast.walk(stmt) if isinstance(n, Definition))
    for node in nested.values():
        yield from _check_definition(node)


# -- names, attributes, imports, strings ---------------------------------------------------------


def _check_format_string(node: ast.Constant, call: ast.AST) -> Iterator[Fault]:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(str(node.value)) if f is not None]
    except ValueError:
        yield _fault(FaultCode.FORBIDDEN_NAME, call, "malformed format string")
        return
    for field_name in fields:
        if "." in field_name or "[" in field_name:
            yield _fault(
                FaultCode.FORBIDDEN_NAME, call, f"format field '{field_name}' reaches into an object"
            )


def _check_names(tree: ast.Module) -> Iterator[Fault]:
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in ALLOWED_IMPORTS:
                    yield _fault(FaultCode.FORBIDDEN_IMPORT, node, f"import of '{alias.name}' is not allowed")
        elif isinstance(node, ast.ImportFrom):
            if node.level or node.module not in ALLOWED_IMPORTS:
                yield _fault(FaultCode.FORBIDDEN_IMPORT, node, f"import from '{node.module}' is not allowed")
            for alias in node.names:
                if alias.name == "*" or alias.name.startswith("_") or alias.name in BANNED_ATTRIBUTES:
                    yield _fault(FaultCode.FORBIDDEN_IMPORT, node, f"import of '{alias.name}' is not allowed")
        elif isinstance(node, ast.Name):
            if node.id in BANNED_NAMES or _DUNDER.fullmatch(node.id):
                yield _fault(FaultCode.FORBIDDEN_NAME, node, f"name '{node.id}' is not allowed")
        elif isinstance(node, ast.Attribute):
            yield from _check_attribute(node)
            if node.attr == "format" and id(node) not in called:
                yield _fault(FaultCode.FORBIDDEN_NAME, node, "'.format' taken without calling it")
        elif isinstance(node, ast.Call):
            yield from _check_call(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            found = _BANNED_IN_STRINGS.search(text)
            if found:
                yield _fault(FaultCode.FORBIDDEN_NAME, node, f"string spells '{found.group(0)}'")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.arg):
            name = node.arg if isinstance(node, ast.arg) else node.name
            if name in BANNED_NAMES or name == "__builtins__":
                yield _fault(FaultCode.FORBIDDEN_NAME, node, f"'{name}' may not be rebound")
        elif isinstance(node, ast.alias) and node.asname and node.asname in BANNED_NAMES:
            yield _fault(FaultCode.FORBIDDEN_NAME, node, f"'{node.asname}' may not be rebound")


def _check_attribute(node: ast.Attribute) -> Iterator[Fault]:
    attr = node.attr
    if (_DUNDER.fullmatch(attr) and attr not in ALLOWED_DUNDER_ATTRIBUTES) or attr in BANNED_ATTRIBUTES:
        yield _fault(FaultCode.FORBIDDEN_NAME, node, f"attribute '{attr}' is not allowed")
    elif attr.startswith("_") and not _DUNDER.fullmatch(attr):
        base = node.value
        if not (isinstance(base, ast.Name) and base.id in _PRIVATE_OK_BASES):
            yield _fault(FaultCode.FORBIDDEN_NAME, node, f"private attribute '{attr}' of something not self")


def _check_call(node: ast.Call) -> Iterator[Fault]:
    func = node.func
    if isinstance(func, ast.Name) and func.id == "type" and len(node.args) + len(node.keywords) != 1:
        yield _fault(FaultCode.FORBIDDEN_NAME, node, "type() may only be asked for the type of one value")
    if isinstance(func, ast.Attribute) and func.attr == "format":
        if isinstance(func.value, ast.Constant) and isinstance(func.value.value, str):
            yield from _check_format_string(func.value, node)
        else:
            yield _fault(FaultCode.FORBIDDEN_NAME, node, ".format() on anything but a string literal")


# -- the contract --------------------------------------------------------------------------------


def _derives_from_trait(cls: ast.ClassDef) -> bool:
    return any(isinstance(b, ast.Name) and b.id == "Trait" for b in cls.bases)


def _check_contract(tree: ast.Module) -> Iterator[Fault]:
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
        yield _fault(
            FaultCode.CONTRACT, cls, f"'{cls.name}' needs exactly one 'async def execute(self, entity)'"
        )
        return
    fn = execute[0]
    args = fn.args
    names = [a.arg for a in args.posonlyargs + args.args]
    required_kw = [a for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    if len(names) - len(args.defaults) > 2 or len(names) < 2 or required_kw or fn.decorator_list:
        yield _fault(FaultCode.CONTRACT, fn, "execute must take (self, entity)")
    if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in ast.walk(fn)):
        yield _fault(FaultCode.CONTRACT, fn, "execute must not yield (it is a coroutine, not a generator)")
