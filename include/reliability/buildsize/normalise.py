"""Stable bundle names from content-hashed file names: ``main.3f2a1c9b.js`` -> ``main.[hash].js``.

Bundlers put a content hash in each file name so browsers can cache forever; the watchdog needs the
same bundle to carry the same name in every build. A pattern is a regular expression with a named
group ``hash``; only that group is replaced, everything the pattern matched around it stays. Files
that normalise to one name (esbuild calls every shared chunk ``chunk-<HASH>.js``) are measured as one
bundle, with their count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

HASH = "[hash]"

# webpack/CRA (`main.3f2a1c9b.js`, `2.7f3a9c1d.chunk.js`), hex with a dash (`app-3f2a1c9b.css`),
# Vite/Rollup's base64url hashes (`index-BdX3kq9P.js`: mixed case or digits, so `icon-settings.svg`
# keeps its name), esbuild's upper-case base32 (`chunk-WBQ7GZHE.js`), and whole hex folder names.
DEFAULT_NAME_PATTERNS = (
    r"[.-](?P<hash>[0-9a-f]{8,64})(?=\.[^/]+$)",
    r"-(?P<hash>(?=[A-Za-z0-9_-]{0,7}[0-9A-Z])(?=[A-Za-z0-9_-]{0,7}[a-z])[A-Za-z0-9_-]{8})(?=\.[^/]+$)",
    r"-(?P<hash>[A-Z2-7]{8})(?=\.[^/]+$)",
    r"(?:^|/)(?P<hash>[0-9a-f]{16,64})(?=/)",
)


def compile_patterns(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    """Compile name patterns; ValueError names the pattern that is not a regex or has no ``hash`` group."""
    compiled = []
    for pattern in patterns:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"name pattern {pattern!r} is not a valid regular expression: {exc}") from None
        if "hash" not in regex.groupindex:
            raise ValueError(f"name pattern {pattern!r} has no named group (?P<hash>...) marking the hash")
        compiled.append(regex)
    return tuple(compiled)


def normalise(path: str, patterns: Sequence[re.Pattern[str]]) -> str:
    """``path`` with every hash that a pattern finds replaced by ``[hash]``, patterns applied in order."""
    for regex in patterns:

        def replace(match: re.Match[str]) -> str:
            start, end = match.start("hash") - match.start(), match.end("hash") - match.start()
            text = match.group(0)
            return text[:start] + HASH + text[end:]

        path = regex.sub(replace, path)
    return path
