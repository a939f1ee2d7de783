"""The static gate for Python traits: the first door, not the last.

``check_python_trait(source)`` returns a list of faults, empty when the source may be loaded into
the isolated worker (``python_worker``). The gate is an allow-list: every node of the tree must be
of a type it names (``ALLOWED_NODES``), every identifier the tree holds as a string — names,
attributes, keyword arguments, parameters, import names, pattern captures, ``global`` names —
passes one rule (``_check_identifier``), and any string field the gate does not know is refused.
What it does not name is refused with a fault naming the node type and its line. For a source it
passes, it promises:

- it is at most ``max_source_bytes`` of UTF-8, nests at most ``MAX_NESTING_DEPTH`` deep (measured
  from its tokens *before* parsing, then exactly on the tree) and compiles as Python 3.11; the
  gate's work is linear in the source, and nothing a source can be makes it raise;
- it imports only ``ALLOWED_IMPORTS`` (math, random, dataclasses, typing, enum, collections,
  functools, itertools), never a private name from them;
- no identifier anywhere is a dunder (but ``__init__`` and ``__post_init__`` as attributes, and
  the data-model methods of ``ALLOWED_DUNDER_DEFINITIONS`` as method names), a banned builtin
  (``eval``, ``exec``, ``open``, ``getattr``, ``vars``, …), a frame or code attribute
  (``gi_frame``, ``f_back``, ``tb_frame``, ``co_code``, …) or a private attribute of anything
  but ``self``/``cls``; no string spells a dunder or a frame attribute;
- nothing reads an attribute by a name held in a string: no ``match`` class pattern
  (``case C(attr=x)``), no ``str.format``/``format_map`` whose fields (format specs included)
  reach attributes or items, no ``.format`` of anything but a string literal called there and
  then, no ``type`` but ``type(one_value)``, no ``with`` (it calls ``__enter__``/``__exit__`` by name);
- it never names anything that turns a string into code at run time (``get_type_hints``,
  ``ForwardRef``, ``singledispatch``, …);
- module level holds only a docstring, imports, class and function definitions, and constant
  assignments of literals; class bodies likewise; decorators, base classes and argument defaults
  are simple expressions — for every ``def`` and ``lambda``, nested ones included;
- exactly one class derives from ``Trait`` and defines ``async def execute(self, entity)``.

``random`` is allowed, but a trait never sees the process-global generator: the worker hands it
a ``random.Random`` reseeded before every batch from the tick's keyed stream (``ctx.rng``), so a
trait's draws replay exactly.

AST filters are known to be escapable, so the worker's isolation is the real boundary; this gate
refuses the obvious early, with a fault per finding naming its line.
"""

from __future__ import annotations

import ast
import hashlib
import re
import string
import tokenize
from collections.abc import Collection, Iterator

from ouroboros.sandbox._python_structure import (
    check_contract,
    check_definition,
    check_structure,
    fault_at,
)
from ouroboros.sandbox.faults import Fault, FaultCode
from ouroboros.sandbox.python_nesting import nesting_estimate

ALLOWED_IMPORTS = frozenset(
    {"math", "random", "dataclasses", "typing", "enum", "collections", "functools", "itertools"}
)
MAX_SOURCE_BYTES = 64 * 1024
MAX_NESTING_DEPTH = 100  # levels of the tree (and of the token estimate made before parsing)
MAX_FAULTS = 50

# Every syntax a trait may use. Not here, so refused: ``with``/``async with`` (enter and exit by
# name), ``async for`` (suspends), ``try``/``except*``, match class patterns (read attributes by
# the names the pattern holds), and whatever later Pythons add until someone reviews it.
ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset(
    {
        ast.Module,
        # statements
        ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Return, ast.Delete, ast.Assign,
        ast.AugAssign, ast.AnnAssign, ast.For, ast.While, ast.If, ast.Raise, ast.Try, ast.Assert,
        ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Expr, ast.Pass, ast.Break,
        ast.Continue, ast.Match,
        # expressions
        ast.BoolOp, ast.NamedExpr, ast.BinOp, ast.UnaryOp, ast.Lambda, ast.IfExp, ast.Dict, ast.Set,
        ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Await, ast.Yield,
        ast.YieldFrom, ast.Compare, ast.Call, ast.FormattedValue, ast.JoinedStr, ast.Constant,
        ast.Attribute, ast.Subscript, ast.Starred, ast.Name, ast.List, ast.Tuple, ast.Slice,
        # parts
        ast.Load, ast.Store, ast.Del, ast.comprehension, ast.ExceptHandler, ast.arguments, ast.arg,
        ast.keyword, ast.alias, ast.match_case,
        # match patterns that compare, unpack sequences or look keys up — never attributes
        ast.MatchValue, ast.MatchSingleton, ast.MatchSequence, ast.MatchMapping, ast.MatchStar,
        ast.MatchAs, ast.MatchOr,
        # operators
        ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.MatMult, ast.Div, ast.Mod, ast.Pow,
        ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd, ast.FloorDiv, ast.Invert, ast.Not,
        ast.UAdd, ast.USub, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot,
        ast.In, ast.NotIn,
    }
)  # fmt: skip
# The string fields of those nodes, and what each one is: every other string field is refused.
_NAME_FIELDS: dict[tuple[type[ast.AST], str], str] = {
    (ast.Name, "id"): "name",
    (ast.Attribute, "attr"): "attribute",
    (ast.keyword, "arg"): "keyword",
    (ast.arg, "arg"): "parameter",
    (ast.FunctionDef, "name"): "definition",
    (ast.AsyncFunctionDef, "name"): "definition",
    (ast.ClassDef, "name"): "definition",
    (ast.ExceptHandler, "name"): "name",
    (ast.alias, "name"): "import",
    (ast.alias, "asname"): "name",
    (ast.ImportFrom, "module"): "module",
    (ast.Global, "names"): "name",
    (ast.Nonlocal, "names"): "name",
    (ast.MatchAs, "name"): "name",
    (ast.MatchStar, "name"): "name",
    (ast.MatchMapping, "rest"): "name",
}
_CONSTANT_TYPES = (str, bytes, int, float, complex, bool, type(None), type(...))

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
        "builtins", "attrgetter", "methodcaller",
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
            "FunctionType", "CodeType",  # dataclasses re-exports types.FunctionType
        }
    )
)  # fmt: skip
ALLOWED_DUNDER_ATTRIBUTES = frozenset({"__init__", "__post_init__"})
# Data-model methods a trait's own classes may define: comparison, arithmetic, containers, text.
# Never attribute hooks (__getattr__, __setattr__, …), class hooks (__init_subclass__, __set_name__,
# __class_getitem__, __new__), finalizers, awaitables, context managers or conversions the worker
# makes (__index__, __int__, __format__).
ALLOWED_DUNDER_DEFINITIONS = ALLOWED_DUNDER_ATTRIBUTES | frozenset(
    {
        "__repr__", "__str__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
        "__hash__", "__bool__", "__len__", "__iter__", "__next__", "__contains__", "__getitem__",
        "__add__", "__sub__", "__mul__", "__neg__", "__abs__",
    }
)  # fmt: skip
_DUNDER = re.compile(r"__\w*__")
_SPELLED = sorted(FRAME_ATTRIBUTES | EVALUATORS - {"wraps"})
_BANNED_IN_STRINGS = re.compile(r"__\w+__|\b(" + "|".join(_SPELLED) + r")\b")
_PRIVATE_OK_BASES = frozenset({"self", "cls"})
_FORMAT_FIELD = re.compile(r"\d*|[A-Za-z_]\w*")  # a position or a keyword, nothing after it


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
    # Measure the nesting before the parser sees it: CPython's parser and compiler recurse per
    # level, and a few thousand levels fit in a few KiB.
    token_error = None
    try:
        too_deep = nesting_estimate(source, MAX_NESTING_DEPTH)
    except (tokenize.TokenError, SyntaxError, ValueError) as exc:
        # Not Python; but it stayed shallow up to where the tokens broke off, so let the parser
        # say what is wrong (it says it better).
        too_deep, token_error = None, _syntax_fault(exc)
    if too_deep is not None:
        return [_too_deep(too_deep.line)]
    try:
        tree = ast.parse(source, filename="<trait>", type_comments=False)
    except (SyntaxError, ValueError, OverflowError) as exc:  # ValueError: NUL bytes, huge ints
        return [_syntax_fault(exc)]
    except (RecursionError, MemoryError):  # the estimate should have caught it; never a traceback
        return [_too_deep(0)]
    if token_error is not None:
        return [token_error]
    faults: list[Fault] = []
    for fault in _check(tree):
        faults.append(fault)
        if len(faults) >= MAX_FAULTS:
            break
    if not faults:  # what parses may still not compile ('await' in a lambda): say so here
        try:
            compile(tree, "<trait>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            return [_syntax_fault(exc)]
        except (RecursionError, MemoryError):
            return [_too_deep(0)]
    return faults


def _syntax_fault(exc: Exception) -> Fault:
    """A ``SYNTAX`` fault from what the tokenizer, parser or compiler raised."""
    line = getattr(exc, "lineno", None)
    if not isinstance(line, int):  # tokenize.TokenError carries (message, (line, column))
        where = exc.args[1] if len(exc.args) > 1 else None
        line = where[0] if isinstance(where, tuple) and where and isinstance(where[0], int) else 0
    message = getattr(exc, "msg", None) or (exc.args[0] if exc.args else type(exc).__name__)
    return Fault(FaultCode.SYNTAX, f"line {line}: {message}")


def _too_deep(line: int) -> Fault:
    return Fault(FaultCode.SYNTAX, f"line {line}: nested more than {MAX_NESTING_DEPTH} levels deep")


def _check(tree: ast.Module) -> Iterator[Fault]:
    too_deep = False
    for fault in _walk(tree):
        too_deep = too_deep or fault.code is FaultCode.SYNTAX
        yield fault
    if not too_deep:  # the rules below recurse as deep as the tree: only on a bounded one
        yield from check_structure(tree)
        yield from check_contract(tree)


# -- the allow-list walk -------------------------------------------------------------------------


def _walk(tree: ast.Module) -> Iterator[Fault]:
    """Every node once, parents before children: its type, its string fields, its own rules; a
    tree deeper than ``MAX_NESTING_DEPTH`` ends the walk with one ``SYNTAX`` fault. (The token
    estimate has already bounded it to a small multiple of that, so the recursive helpers it
    calls on shallower definitions stay far from the recursion limit.)"""
    called: set[int] = set()  # ids of nodes that are the function of a Call
    one_arg_calls: set[int] = set()  # ... of a Call with exactly one plain positional argument
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING_DEPTH:
            yield _too_deep(getattr(node, "lineno", 0))
            return
        kind = type(node)
        if kind not in ALLOWED_NODES:
            yield fault_at(FaultCode.FORBIDDEN_NAME, node, f"{_describe(node)} is not allowed in a trait")
            continue  # its children are not looked at: the whole construct is refused
        if isinstance(node, ast.Call):
            called.add(id(node.func))
            if len(node.args) == 1 and not node.keywords and not isinstance(node.args[0], ast.Starred):
                one_arg_calls.add(id(node.func))
            yield from _check_call(node)
        elif isinstance(node, ast.Constant):
            yield from _check_constant(node)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            yield from _check_import(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            yield from check_definition(node)
        elif isinstance(node, ast.MatchMapping):
            for key in node.keys:
                if not isinstance(key, ast.Constant):
                    yield fault_at(FaultCode.FORBIDDEN_NAME, key, "a mapping pattern's keys must be literals")
        if isinstance(node, ast.Attribute) and node.attr == "format" and id(node) not in called:
            yield fault_at(FaultCode.FORBIDDEN_NAME, node, "'.format' taken without calling it")
        if isinstance(node, ast.Name) and node.id == "type" and id(node) not in one_arg_calls:
            yield fault_at(
                FaultCode.FORBIDDEN_NAME, node, "type may only be called for the type of one value"
            )
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.AST):
                stack.append((value, depth + 1))
            elif isinstance(value, list):
                for item in reversed(value):
                    if isinstance(item, ast.AST):
                        stack.append((item, depth + 1))
                    elif isinstance(item, str):
                        yield from _check_string_field(node, field, item)
            elif isinstance(value, str):
                yield from _check_string_field(node, field, value)


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.MatchClass):
        return "a class pattern in 'match' (it reads attributes by name)"
    if isinstance(node, ast.With | ast.AsyncWith):
        return "'with' (it calls __enter__ and __exit__ by name)"
    return f"syntax {type(node).__name__}"


def _check_string_field(node: ast.AST, field: str, value: str) -> Iterator[Fault]:
    if isinstance(node, ast.Constant):
        return  # its value has its own rule (_check_constant); ``kind`` is only ever "u"
    kind = _NAME_FIELDS.get((type(node), field))
    if kind is None:
        yield fault_at(FaultCode.FORBIDDEN_NAME, node, f"{type(node).__name__}.{field} is not allowed")
    else:
        yield from _check_identifier(node, kind, value)


def _check_identifier(node: ast.AST, kind: str, name: str) -> Iterator[Fault]:
    """The one rule for every identifier the tree holds as a string."""
    if kind in ("import", "module"):
        return  # imports have their own rule (_check_import)
    if _DUNDER.fullmatch(name):
        if kind == "attribute" and name in ALLOWED_DUNDER_ATTRIBUTES:
            return
        if kind == "definition" and name in ALLOWED_DUNDER_DEFINITIONS:
            return
        yield fault_at(FaultCode.FORBIDDEN_NAME, node, f"{kind} '{name}' is not allowed")
    elif kind == "attribute":
        if name in BANNED_ATTRIBUTES:
            yield fault_at(FaultCode.FORBIDDEN_NAME, node, f"attribute '{name}' is not allowed")
        elif name.startswith("_"):
            base = node.value if isinstance(node, ast.Attribute) else None
            if not (isinstance(base, ast.Name) and base.id in _PRIVATE_OK_BASES):
                yield fault_at(
                    FaultCode.FORBIDDEN_NAME, node, f"private attribute '{name}' of something not self"
                )
    elif name in BANNED_NAMES or name in FRAME_ATTRIBUTES:
        verb = "is not allowed" if kind in ("name", "keyword") else "may not be rebound"
        yield fault_at(FaultCode.FORBIDDEN_NAME, node, f"{kind} '{name}' {verb}")


def _check_constant(node: ast.Constant) -> Iterator[Fault]:
    value = node.value
    if not isinstance(value, _CONSTANT_TYPES):
        yield fault_at(FaultCode.FORBIDDEN_NAME, node, f"a constant of type {type(value).__name__}")
    elif isinstance(value, str | bytes):
        text = value if isinstance(value, str) else value.decode("latin-1")
        found = _BANNED_IN_STRINGS.search(text)
        if found:
            yield fault_at(FaultCode.FORBIDDEN_NAME, node, f"string spells '{found.group(0)}'")


def _check_import(node: ast.Import | ast.ImportFrom) -> Iterator[Fault]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in ALLOWED_IMPORTS:
                yield fault_at(FaultCode.FORBIDDEN_IMPORT, node, f"import of '{alias.name}' is not allowed")
        return
    if node.level or node.module not in ALLOWED_IMPORTS:
        yield fault_at(FaultCode.FORBIDDEN_IMPORT, node, f"import from '{node.module}' is not allowed")
    for alias in node.names:
        if alias.name == "*" or alias.name.startswith("_") or alias.name in BANNED_ATTRIBUTES:
            yield fault_at(FaultCode.FORBIDDEN_IMPORT, node, f"import of '{alias.name}' is not allowed")


def _check_call(node: ast.Call) -> Iterator[Fault]:
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "format":
        if isinstance(func.value, ast.Constant) and isinstance(func.value.value, str):
            yield from _check_format_string(func.value.value, node)
        else:
            yield fault_at(FaultCode.FORBIDDEN_NAME, node, ".format() on anything but a string literal")


def _check_format_string(text: str, call: ast.AST) -> Iterator[Fault]:
    """A ``str.format`` template may name positions and keywords only — in its format specs too
    (``'{0:{1}}'`` formats with a nested field)."""
    pending, seen = [text], 0
    while pending and seen < 64:  # str.format nests specs two deep; the bound only keeps it finite
        seen += 1
        try:
            parsed = list(string.Formatter().parse(pending.pop()))
        except ValueError:
            yield fault_at(FaultCode.FORBIDDEN_NAME, call, "malformed format string")
            return
        for _, field_name, spec, _ in parsed:
            if field_name is not None and not _FORMAT_FIELD.fullmatch(field_name):
                yield fault_at(
                    FaultCode.FORBIDDEN_NAME, call, f"format field '{field_name}' reaches into an object"
                )
            if spec and "{" in spec:
                pending.append(spec)
