"""Text from deliveries made safe for where it goes: HTML, Markdown, spreadsheets, messages.

Every string that comes from outside (organisation and subproject names in a
description, labels and headers in a delivery, file names) is hostile until it
passes one of these rules, each defined once here:

- :func:`html` for HTML text and attributes; :func:`markdown` for Markdown that
  nbconvert turns into HTML (Markdown passes raw HTML through, so it needs both).
- :func:`formula_safe` for every xlsx and csv writer: a cell that would start a
  formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) gets a leading
  apostrophe in CSV; xlsx writers use :func:`starts_formula` to write the text as a
  quoted string instead.
- :func:`excerpt` for values quoted in rejects, messages and reports: at most
  :data:`MAX_QUOTED` characters, control characters shown as ``\\xNN``.
"""

from __future__ import annotations

import html as _html
import re

__all__ = [
    "FORMULA_START",
    "MAX_QUOTED",
    "html",
    "markdown",
    "starts_formula",
    "formula_safe",
    "excerpt",
]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_QUOTED = 200
# Characters Markdown gives a meaning to; escaped with a backslash so a name such
# as "*Nordost*" or "[x](javascript:…)" stays literal text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def html(text: object) -> str:
    """Escape text for HTML content or a quoted attribute.

    Example:
        >>> html('<script>alert("x")</script> & co')
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co'
    """
    return _html.escape(str(text), quote=True)


def markdown(text: object) -> str:
    """Escape text for Markdown that becomes HTML: no markup, no raw HTML, no links.

    Example:
        >>> markdown("<b>Nordost</b> *1*")
        '&lt;b&gt;Nordost&lt;/b&gt; \\\\*1\\\\*'
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html(text)).replace("\n", " ")


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
    cut = text[:limit]
    cut = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", cut)
    return cut if len(text) <= limit else f"{cut}… ({len(text)} characters)"
