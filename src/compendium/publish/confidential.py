"""The marking of pages built from real (confidential) data.

``make all DATA=/path/to/exports`` builds into ``outputs-real/`` and every page it writes
carries :data:`BANNER`, a link to the disclosure audit (``outputs-real/disclosure/``,
written per notebook by the disclosure gate). The marking is inserted right after the
opening ``<body>`` tag so that it is the first thing a reader sees, whatever template made
the page.
"""

from __future__ import annotations

import re

#: The words every page of a real-data build carries (the tests look for them).
MARK = "REAL DATA — confidential until the disclosure audit is checked"
#: Where the audit is, relative to a page in ``html/``.
AUDIT_HREF = "../disclosure/"
BANNER = (
    '<div class="compendium-banner compendium-banner-top compendium-banner-real" role="alert" '
    'style="background:#7a0010;color:#fff">'
    f"<strong>{MARK}.</strong> Nothing on this page may leave the secure environment before "
    f'the <a style="color:#fff" href="{AUDIT_HREF}">disclosure audit</a> has been checked '
    "and signed off.</div>"
)
_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def mark_confidential(html: str) -> str:
    """``html`` with the real-data banner right after ``<body ...>`` (once; idempotent)."""
    if BANNER in html:
        return html
    m = _BODY.search(html)
    if m is None:
        raise ValueError("the page has no <body> tag to carry the real-data marking")
    return html[: m.end()] + "\n" + BANNER + html[m.end():]
