"""Table names as the manifest writes them (pg_dump's quoting: ``public.pageviews``, ``s."Odd Name"``)."""

from __future__ import annotations


def split_qualified(name: str) -> tuple[str, str]:
    """``'public."Odd.Name"'`` -> ``("public", "Odd.Name")``; an unqualified name is in ``public``."""
    parts, current, quoted, i = [], [], False, 0
    while i < len(name):
        ch = name[i]
        if quoted:
            if ch == '"' and name[i + 1 : i + 2] == '"':
                current.append('"')
                i += 1
            elif ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted = True
        elif ch == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    if len(parts) == 1:
        return "public", parts[0]
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"table name {name!r} is not schema.table")
    return parts[0], parts[1]
