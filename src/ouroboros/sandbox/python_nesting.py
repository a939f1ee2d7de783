"""How deeply a Python source nests, estimated from its tokens before anything parses it.

CPython's parser and compiler recurse once (or several times) per level of nesting, so a source
that nests a few thousand levels deep — ``lambda: lambda: …``, ``- - - … 1``, ``a.b.c.…``,
``1 if a else 1 if a else …``, a thousand ``elif``s — makes ``ast.parse`` raise ``MemoryError`` or
``RecursionError``, and ``compile`` a ``RecursionError``, well inside the size cap. The gate must
refuse such a source cleanly and cheaply, so it measures the nesting first, from the tokenizer
(linear in the source, no recursion), and parses only what is shallow enough.

``nesting_estimate(source, limit)`` returns an upper estimate of the nesting depth: brackets open,
indentation levels, ``elif`` chains, plus — per bracket level — every operator or keyword since
the last comma at that level that could open a nested expression (``lambda``, ``not``, ``await``,
unary and binary operators, ``.``, conditional expressions). Commas reset the count of their
level (so data tables of negative numbers stay cheap), except inside a ``lambda``'s parameters;
so does ``;`` between statements. The replacement fields of an f-string count by their operator
characters and keywords. The scan stops
as soon as the estimate passes ``limit``.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

# Keywords that open (or chain) a nested expression.
_NESTING_KEYWORDS = frozenset({"lambda", "not", "await", "if", "else", "and", "or", "in", "is", "yield"})
# Operators that never nest by themselves.
_FLAT_OPS = frozenset({",", ":", ";", "=", "->", "...", "+=", "-=", "*=", "/=", "//=", "%=", "@=",
                       "&=", "|=", "^=", ">>=", "<<=", "**="})  # fmt: skip
_OPEN, _CLOSE = "([{", ")]}"
_FSTRING_PREFIX = re.compile(r"[rRbBuU]*[fF][rRbBuU]*['\"]")
_FSTRING_NESTING = re.compile(r"[-+*/%@&|^~<>.!]|\b(?:lambda|not|await|if|else|and|or|in|is)\b")


@dataclass
class NestingTooDeep:
    """Where the estimate passed its limit."""

    line: int
    depth: int


def _fstring_nesting(token: str) -> int:
    """Nesting operators and keywords inside an f-string's replacement fields (its literal text,
    ``{{`` and ``}}`` included, is not code)."""
    inside: list[str] = []
    depth, i, n = 0, 0, len(token)
    while i < n:
        ch = token[i]
        if depth == 0 and ch in "{}" and token.startswith(ch * 2, i):
            i += 2  # an escaped brace in the literal text
            continue
        if ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif depth:
            inside.append(ch)
        i += 1
    return len(_FSTRING_NESTING.findall("".join(inside)))


class _Frame:
    __slots__ = ("chain", "lambdas")

    def __init__(self) -> None:
        self.chain = 0  # nesting tokens since the last comma at this level
        self.lambdas = 0  # lambdas whose parameter list is still open at this level


def nesting_estimate(source: str, limit: int) -> NestingTooDeep | None:
    """``None`` if ``source`` nests at most ``limit`` deep by the estimate, else where it passed.
    Raises ``tokenize.TokenError``, ``SyntaxError`` (``IndentationError``) for what does not
    tokenize."""
    frames = [_Frame()]
    chains = 0  # the sum of every frame's chain, kept as the frames change
    indent = 0
    elifs: list[int] = [0]  # elif chain length per indentation level
    elif_total = 0
    line_start = True
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        kind, text = tok.type, tok.string
        if kind == tokenize.INDENT:
            indent += 1
            elifs.append(0)
            continue
        if kind == tokenize.DEDENT:
            indent -= 1
            elif_total -= elifs.pop()
            continue
        if kind == tokenize.NEWLINE:
            frames, chains, line_start = [_Frame()], 0, True
            continue
        if kind in (tokenize.NL, tokenize.COMMENT, tokenize.ENCODING, tokenize.ENDMARKER):
            continue
        if line_start:
            line_start = False
            if text == "elif":
                elifs[-1] += 1
                elif_total += 1
            elif text != "else":
                elif_total -= elifs[-1]
                elifs[-1] = 0
        top = frames[-1]
        if kind == tokenize.OP:
            if text in _OPEN:
                frames.append(_Frame())
            elif text in _CLOSE:
                if len(frames) > 1:
                    chains -= frames.pop().chain
            elif text == "," or (text == ";" and len(frames) == 1):  # siblings, or the next statement
                if not top.lambdas:
                    chains -= top.chain
                    top.chain = 0
            elif text == ":":
                if top.lambdas:
                    top.lambdas -= 1
            elif text not in _FLAT_OPS:
                top.chain += 1
                chains += 1
        elif kind == tokenize.NAME and text in _NESTING_KEYWORDS:
            top.chain += 1
            chains += 1
            if text == "lambda":
                top.lambdas += 1
        elif kind == tokenize.STRING and _FSTRING_PREFIX.match(text):
            found = _fstring_nesting(text)
            top.chain += found
            chains += found
        depth = indent + elif_total + len(frames) - 1 + chains
        if depth > limit:
            return NestingTooDeep(tok.start[0], depth)
    return None
