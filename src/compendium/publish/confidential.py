"""The marking of pages built from real (confidential) data.

``make all DATA=/path/to/exports`` builds into ``outputs-real/`` and every page it writes
carries :func:`banner`, a link to the disclosure audit (``outputs-real/disclosure/``,
written per notebook by the disclosure gate), in the page's language (the ``confidential``
section of the message catalogues). The marking is inserted right after the opening
``<body>`` tag so that it is the first thing a reader sees, whatever template made the page.
"""

from __future__ import annotations

import re

from compendium.publish.language import messages

#: The words every English page of a real-data build carries (the tests look for them).
MARK = str(messages("en")["confidential"]["mark"])
#: Where the audit is, relative to a page in ``html/``.
AUDIT_HREF = "../disclosure/"
_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def banner(lang: str = "en") -> str:
    """The real-data banner in ``lang`` (trusted catalogue text)."""
    t = messages(lang)["confidential"]
    return (
        '<div class="compendium-banner compendium-banner-top compendium-banner-real" '
        'role="alert" style="background:#7a0010;color:#fff">'
        f"<strong>{t['mark']}.</strong> {t['before']} "
        f'<a style="color:#fff" href="{AUDIT_HREF}">{t["audit"]}</a> {t["after"]}</div>'
    )


#: The English banner.
BANNER = banner("en")


def mark_confidential(html: str, lang: str = "en") -> str:
    """``html`` with the real-data banner in ``lang`` right after ``<body ...>`` (once;
    idempotent)."""
    mark = banner(lang)
    if mark in html:
        return html
    m = _BODY.search(html)
    if m is None:
        raise ValueError("the page has no <body> tag to carry the real-data marking")
    return html[: m.end()] + "\n" + mark + html[m.end():]
