"""Text from deliveries made safe for where it goes: HTML, Markdown, spreadsheets, messages.

Every string that comes from outside (organisation and subproject names in a
description, labels and headers in a delivery, file names) is hostile until it
passes one of these rules, each defined once here and applied once, where the
text enters its output:

- :func:`html` for HTML text and attributes, :func:`html_table` for a table shown
  as HTML (cells and headers); :func:`markdown` for Markdown that nbconvert turns
  into HTML (Markdown passes raw HTML and links through, so it needs both).
- :func:`formula_safe` for every csv writer: a cell that would start a formula
  (:data:`FORMULA_START`) gets a leading apostrophe; xlsx writers use
  :func:`starts_formula` to write such text as a quoted string instead, and
  :func:`neutralise` to drop what a workbook cannot store.
- :func:`excerpt` for values quoted in rejects, messages and reports: at most
  :data:`MAX_QUOTED` characters, control characters shown as ``\\xNN``
  (:func:`printable` alone, for names that go everywhere, charts included).

Charts need no rule here: the slide theme turns matplotlib's mathtext off, so a
``$…$`` in a name is drawn as it is.
"""

from __future__ import annotations

import html as _html
import re
from typing import Any

__all__ = [
    "FORMULA_START",
    "MAX_QUOTED",
    "MAX_CELL",
    "html",
    "html_table",
    "markdown",
    "starts_formula",
    "formula_safe",
    "neutralise",
    "printable",
    "excerpt",
]

# Leading characters that make Excel, LibreOffice or Sheets read text as a
# formula (CSV/formula injection, OWASP); tab and carriage return too.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_QUOTED = 200
# The most text one spreadsheet cell holds.
MAX_CELL = 32767
# Characters Markdown gives a meaning to (emphasis, code, links and images,
# headings, lists, tables, strikethrough, math), escaped with a backslash so a
# name such as "*Nordost*" or "[x](javascript:…)" stays literal text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#+\-!|~$])")
# "1. " or "1) " at the start would begin an ordered list.
_ORDERED = re.compile(r"^(\s*\d+)([.)])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Characters a workbook (XML) cannot store.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _visible(text: str) -> str:
    """Control characters (not tab or newline) shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def html(text: object) -> str:
    """Escape text for HTML content or a quoted attribute; control characters shown.

    Example:
        >>> html('<script>alert("x")</script> & co')
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co'
        >>> html("a\\x00b")
        'a\\\\x00b'
    """
    return _html.escape(_visible(str(text)), quote=True)


def html_table(frame: Any) -> Any:
    """Return a DataFrame as a pandas Styler whose cells and headers are escaped once.

    Missing cells are empty; the index is hidden. Use the Styler's ``to_html()``
    or let Jupyter show it.

    Example:
        >>> import pandas as pd
        >>> t = pd.DataFrame({"<b>": ["<i>x</i>", None]})
        >>> out = html_table(t).to_html()
        >>> "&lt;b&gt;" in out, "&lt;i&gt;x&lt;/i&gt;" in out, "<i>" in out
        (True, True, False)
    """
    return (
        frame.style.hide(axis="index")
        .format(html, na_rep="")
        .format_index(html, axis=1)
    )


def markdown(text: object) -> str:
    """Escape text for Markdown that becomes HTML: no markup, raw HTML, links or math.

    The result renders as the text itself, on one line. Bare ``http://`` links
    are broken up so they are not made into links either.

    Example:
        >>> markdown("<b>Nordost</b> *1*")
        '&lt;b&gt;Nordost&lt;/b&gt; \\\\*1\\\\*'
        >>> markdown("[x](javascript:alert(1))")
        '\\\\[x\\\\](javascript:alert(1))'
    """
    escaped = _visible(str(text)).replace("&", "&amp;")
    escaped = escaped.replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", escaped).replace("://", r"\:\/\/")
    return _ORDERED.sub(r"\1\\\2", escaped).replace("\n", " ")


def starts_formula(text: object) -> bool:
    """Whether a spreadsheet would read this text as a formula (or DDE) when opened.

    Example:
        >>> starts_formula("=HYPERLINK(1)"), starts_formula("-3"), starts_formula("a=b")
        (True, True, False)
    """
    return isinstance(text, str) and text.startswith(FORMULA_START)


def formula_safe(value: object) -> object:
    """Return a value safe for a CSV cell: text that would start a formula gets a ``'``.

    Non-text values pass through unchanged.

    Example:
        >>> formula_safe("=1+1"), formula_safe("Nordost"), formula_safe(3)
        ("'=1+1", 'Nordost', 3)
    """
    return f"'{value}" if starts_formula(value) else value


def neutralise(value: object) -> object:
    """Return a cell value a workbook can store: text loses illegal control characters.

    Text is also cut to the :data:`MAX_CELL` characters a cell holds. Whether
    text would be *run* is decided when writing, by :func:`starts_formula`
    (quote prefix); this only makes the text storable. Non-text values pass
    through.

    Example:
        >>> neutralise("a\\x00b"), neutralise(3)
        ('ab', 3)
    """
    if not isinstance(value, str):
        return value
    return _ILLEGAL.sub("", value)[:MAX_CELL]


def printable(text: object) -> str:
    """Return text with its control characters (not tab or newline) shown as ``\\xNN``.

    Example:
        >>> printable("Nord\\x00ost\\x1b")
        'Nord\\\\x00ost\\\\x1b'
    """
    return _visible(str(text))


def excerpt(value: object, limit: int = MAX_QUOTED) -> str:
    """Return a short, printable excerpt of a value for a message or a rejects row.

    Control characters become ``\\xNN``; text past ``limit`` characters is cut and
    says how long it was.

    Example:
        >>> excerpt("a\\x00b")
        'a\\\\x00b'
        >>> excerpt("x" * 500, limit=10)
        'xxxxxxxxxx… (500 characters)'
    """
    text = str(value)
    cut = _visible(text[:limit])
    return cut if len(text) <= limit else f"{cut}… ({len(text)} characters)"
