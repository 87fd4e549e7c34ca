"""Demo builds for the local stack: four builds of the app ``web`` on ``main``, the newest over budget.

Builds ``1001`` to ``1003`` grow ``main.[hash].js`` a little each time (within budget and the growth
limit); build ``1004`` ships a much larger ``main.[hash].js`` (over its brotli and gzip budgets),
drops chunk ``805`` and adds chunk ``911``. Everything else is byte-identical across builds, so the
size cache spares all but the changed files. Content is generated from fixed seeds: JavaScript-like
text that compresses about as well as real bundles, and the same bytes on every machine.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta

DEMO_APP = "web"
_KEYWORDS = (
    "const",
    "let",
    "return",
    "function",
    "if",
    "else",
    "await",
    "async",
    "new",
    "this",
    "null",
    "undefined",
    "true",
    "false",
    "typeof",
    "export",
    "import",
    "from",
    "default",
    "props",
    "state",
)
# (build id, main.js size, chunks present): build 1004 is the one that breaks the budget.
_BUILDS = (
    ("1001", 172_000, ("217", "805")),
    ("1002", 175_000, ("217", "805")),
    ("1003", 178_000, ("217", "805")),
    ("1004", 290_000, ("217", "911")),
)
_CHUNKS = {"217": (28_000, 217), "805": (22_000, 805), "911": (36_000, 911)}


def javascript(seed: int, size: int) -> bytes:
    """``size`` bytes of minified-JavaScript-like text; a longer text from one seed extends a shorter one."""
    rnd = random.Random(seed)
    names = [
        "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9)))
        + rnd.choice(("", "Id", "List", "State", "Props", "Handler", "Value"))
        for _ in range(600)
    ]
    out: list[str] = []
    length = 0
    while length < size:
        a, b, c = rnd.choice(names), rnd.choice(names), rnd.choice(names)
        kind = rnd.random()
        if kind < 0.3:
            keyword = rnd.choice(_KEYWORDS)
            piece = f"function {a}({b},{c}){{{keyword} {b}.{c}({rnd.randint(0, 999)});return {c}}}"
        elif kind < 0.55:
            piece = f'const {a}={b}.{c}?{b}.{c}:"{rnd.choice(names)}-{rnd.randint(0, 99)}";'
        elif kind < 0.8:
            piece = f"if({a}.{b}==={rnd.randint(0, 9999)}){{{c}.push({{{a}:{b},{c}:{rnd.random():.3f}}})}}"
        else:
            piece = f'export {rnd.choice(_KEYWORDS)} {a}=async({b})=>await {c}({b},"{rnd.choice(names)}");'
        out.append(piece)
        length += len(piece)
    return "".join(out).encode()[:size]


def stylesheet(seed: int, size: int) -> bytes:
    rnd = random.Random(seed)
    out: list[str] = []
    length = 0
    while length < size:
        rule = (
            f".c{rnd.randint(0, 4000)}-{rnd.choice(('btn', 'card', 'nav', 'grid', 'hero'))}"
            f"{{margin:{rnd.randint(0, 32)}px;color:#{rnd.randint(0, 0xFFFFFF):06x};"
            f"display:{rnd.choice(('flex', 'block', 'grid', 'none'))}}}"
        )
        out.append(rule)
        length += len(rule)
    return "".join(out).encode()[:size]


def _hashed(name: str, ext: str, content: bytes) -> str:
    return f"{name}.{hashlib.sha256(content).hexdigest()[:8]}{ext}"


def demo_build(build_id: str) -> dict[str, bytes]:
    """The files of one demo build, by path relative to the build's root (build-info.json included)."""
    ids = [b[0] for b in _BUILDS]
    if build_id not in ids:
        raise ValueError(f"no demo build {build_id!r}; the demo builds are {', '.join(ids)}")
    index = ids.index(build_id)
    _, main_size, chunks = _BUILDS[index]
    files: dict[str, bytes] = {}
    main = javascript(1, main_size)
    main_name = _hashed("main", ".js", main)
    files[f"static/js/{main_name}"] = main
    # Source maps are not downloaded by browsers; the budget file ignores them.
    files[f"static/js/{main_name}.map"] = json.dumps(
        {"version": 3, "sources": ["src/index.js"], "mappings": main[:60_000].hex()}
    ).encode()
    vendor = javascript(2, 400_000)
    files[f"static/js/{_hashed('vendor', '.js', vendor)}"] = vendor
    for chunk in chunks:
        size, seed = _CHUNKS[chunk]
        content = javascript(seed, size)
        files[f"static/js/{_hashed(chunk, '.chunk.js', content)}"] = content
    css = stylesheet(3, 30_000)
    files[f"static/css/{_hashed('main', '.css', css)}"] = css
    logo = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        + b"".join(b'<circle cx="%d" cy="%d" r="%d"/>' % (i % 64, (i * 7) % 64, i % 9) for i in range(90))
        + b"</svg>"
    )
    files[f"static/media/{_hashed('logo', '.svg', logo)}"] = logo
    scripts = "".join(f'<script src="/{p}"></script>' for p in sorted(files) if p.endswith(".js"))
    files["index.html"] = (
        f"<!doctype html><html><head><title>Web</title>"
        f'<link rel="stylesheet" href="/{next(p for p in files if p.endswith(".css"))}">'
        f'</head><body><div id="root"></div>{scripts}</body></html>'
    ).encode()
    created = datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(days=index)
    files["build-info.json"] = json.dumps(
        {
            "branch": "main",
            "commit": hashlib.sha1(build_id.encode()).hexdigest(),
            "created_at": created.isoformat().replace("+00:00", "Z"),
        }
    ).encode()
    return files


def seed_demo_builds(s3_client, bucket: str) -> list[str]:
    """Upload the demo builds to ``builds/web/<build id>/`` in ``bucket``; return their ids, oldest first."""
    ids = []
    for build_id, _, _ in _BUILDS:
        for path, content in demo_build(build_id).items():
            s3_client.put_object(Bucket=bucket, Key=f"builds/{DEMO_APP}/{build_id}/{path}", Body=content)
        ids.append(build_id)
    return ids
