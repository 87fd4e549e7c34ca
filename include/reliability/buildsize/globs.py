"""Path globs for budgets, matched against normalised bundle names.

``*`` matches within one path segment, ``**`` (a whole segment) any number of folders, ``?`` one
character, ``[abc]``/``[!abc]``/``[a-z]`` one character from a class, ``{js,mjs}`` one of the
alternatives. ``[hash]`` is not a class: it is the placeholder that names normalisation produces, so
``static/js/main.[hash].js`` reads as the report shows it. A glob without ``/`` matches the file name at
any depth, as in ``.gitignore``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reliability.buildsize.normalise import HASH


class GlobError(ValueError):
    """A glob is malformed; ``column`` is 1-based within the glob."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Glob:
    pattern: str
    regex: re.Pattern[str] = field(compare=False, repr=False)

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None


def compile_glob(pattern: str) -> Glob:
    if not pattern or not pattern.strip():
        raise GlobError("glob is empty", 1)
    if pattern.startswith("/"):
        raise GlobError("glob starts with '/': globs are relative to the build's root", 1)
    if "\\" in pattern:
        raise GlobError("glob contains '\\': use '/' between folders", pattern.index("\\") + 1)
    body = _translate(pattern)
    if "/" not in pattern:
        body = f"(?:.*/)?{body}"
    try:
        return Glob(pattern, re.compile(body, re.DOTALL))
    except re.error as exc:  # e.g. a reversed range such as [z-a]
        raise GlobError(f"invalid glob: {exc.msg}", 1) from None


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    in_braces = -1  # column of the open '{', or -1
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            start_ok = i == 0 or pattern[i - 1] == "/"
            end = i + 2
            if pattern.startswith("***", i) or not start_ok or (end < n and pattern[end] != "/"):
                raise GlobError("'**' must be a whole path segment, as in 'static/**/x.js'", i + 1)
            if end < n:
                out.append("(?:[^/]*/)*")
                i = end + 1
            else:
                out.append(".*")
                i = end
            continue
        if pattern.startswith(HASH, i):
            out.append(re.escape(HASH))
            i += len(HASH)
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = i + 2 if pattern.startswith("!", i + 1) else i + 1
            close = pattern.find("]", j)
            if close < 0:
                raise GlobError("'[' is never closed", i + 1)
            inner = pattern[j:close]
            if not inner:
                raise GlobError("empty character class '[]'", i + 1)
            if "/" in inner:
                raise GlobError("a character class cannot match '/'", i + 1)
            escaped = re.sub(r"([\\\[^])", r"\\\1", inner)
            out.append(("[^/" if j == i + 2 else "[") + escaped + "]")
            i = close + 1
        elif c == "]":
            raise GlobError("']' without a matching '['", i + 1)
        elif c == "{":
            if in_braces >= 0:
                raise GlobError("nested '{' is not supported", i + 1)
            in_braces = i
            out.append("(?:")
            i += 1
        elif c == ",":
            out.append("|" if in_braces >= 0 else ",")
            i += 1
        elif c == "}":
            if in_braces < 0:
                raise GlobError("'}' without a matching '{'", i + 1)
            in_braces = -1
            out.append(")")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    if in_braces >= 0:
        raise GlobError("'{' is never closed", in_braces + 1)
    return "".join(out)
