"""Text on the page: the query's words marked in snippets (everything else escaped), times."""

from __future__ import annotations

import html
import re

#: Words too common to mark.
STOP = frozenset("a an and are at be by did do for from how i in is it my of on or the to was "
                 "we what when where which who why with you".split())  # fmt: skip
WORD = re.compile(r"(\w+)")


def query_words(query: str) -> set[str]:
    """The words of ``query`` worth marking (case-folded, common words left out)."""
    return {w for w in WORD.findall(query.casefold()) if w not in STOP}


def _matches(word: str, wanted: set[str]) -> bool:
    """``word`` is a query word, or starts with one of four letters or more (park, parked)."""
    folded = word.casefold()
    return folded in wanted or any(len(w) >= 4 and folded.startswith(w) for w in wanted)


def excerpt(text: str, query: str, width: int = 240) -> str:
    """``text`` on one line, cut to about ``width`` characters around its first query word."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    wanted = query_words(query)
    first = next((m.start() for m in WORD.finditer(flat) if _matches(m.group(), wanted)), 0)
    start = max(0, min(first - width // 3, len(flat) - width))
    cut = flat[start : start + width]
    return ("..." if start else "") + cut + ("..." if start + width < len(flat) else "")


def marked(text: str, query: str) -> str:
    """``text`` as HTML: escaped, with the query's words in ``<mark>``."""
    wanted = query_words(query)
    parts = WORD.split(text)
    out = []
    for i, part in enumerate(parts):
        escaped = html.escape(part)
        out.append(f"<mark>{escaped}</mark>" if i % 2 and _matches(part, wanted) else escaped)
    return "".join(out)


def clock(seconds: float) -> str:
    """``h:mm:ss.s`` (``m:ss.s`` under an hour)."""
    tenths = int(round(max(0.0, seconds) * 10))
    hours, rest = divmod(tenths, 36000)
    minutes, rest = divmod(rest, 600)
    text = f"{minutes}:{rest / 10:04.1f}"
    return f"{hours}:{minutes:02d}:{rest / 10:04.1f}" if hours else text
