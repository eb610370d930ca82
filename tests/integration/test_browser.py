"""The published site in a real browser: Debian's headless Chromium driven by Playwright.

Every page of the built site is opened; the test checks console errors, images, internal
links, the synthetic-data banner, the table of contents, the phone-sized layout and the
print layout, and saves a full-page screenshot per page under outputs/screenshots/.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]





def site_pages(built: Path) -> list[Path]:
    return sorted((built / "outputs" / "html").glob("*.html"))


def _broken_links(page_path: Path, hrefs: list[str], ids: set[str]) -> list[str]:
    bad = []
    for href in hrefs:
        url = urlparse(href)
        if url.scheme in ("http", "https", "mailto", "javascript"):
            continue
        if not url.path:  # same-page anchor
            if url.fragment and url.fragment not in ids:
                bad.append(href)
            continue
        target = (page_path.parent / unquote(url.path)).resolve()
        if not target.exists():
            bad.append(href)
    return bad


def test_every_page_renders_cleanly_and_links_resolve(built, browser):
    shots = ROOT / "outputs" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    pages = site_pages(built)
    assert len(pages) >= 5
    problems: dict[str, list[str]] = {}
    for path in pages:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
        page.on("requestfailed", lambda r, e=errors: e.append(f"request failed: {r.url[:80]}"))
        page.goto(path.as_uri(), wait_until="load")
        found = list(errors)
        broken_img = page.eval_on_selector_all(
            "img", "els => els.filter(e => !(e.complete && e.naturalWidth > 0))"
                   ".map(e => e.alt || e.src.slice(0, 60))")
        found += [f"image not loaded: {b}" for b in broken_img]
        ids = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        found += [f"broken link: {h}" for h in _broken_links(path, hrefs, ids)]
        if not page.locator(".compendium-banner-top").first.is_visible():
            found.append("synthetic-data banner not visible")
        toc = page.eval_on_selector_all(
            ".compendium-toc a", "els => els.map(e => e.getAttribute('href'))")
        if path.name != "index.html" and not toc:
            found.append("no table of contents")
        found += [f"contents link without anchor: {h}" for h in toc if h[1:] not in ids]
        page.screenshot(path=str(shots / f"{path.stem}.png"), full_page=True)
        # phone-sized screen: no sideways scrolling of the page itself
        page.set_viewport_size({"width": 390, "height": 844})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 2:
            found.append(f"page scrolls sideways on a phone by {overflow}px")
        # print layout: the navigation is hidden
        page.emulate_media(media="print")
        if page.locator(".compendium-nav").first.is_visible():
            found.append("navigation is printed")
        page.close()
        if found:
            problems[path.name] = found
    assert problems == {}
    assert {f"{p.stem}.png" for p in pages} <= {p.name for p in shots.glob("*.png")}


def test_analysis_pages_show_numbered_figures_with_captions(built, browser):
    page = browser.new_page()
    page.goto((built / "outputs" / "html" / "01_ops_survey.html").as_uri())
    captions = page.eval_on_selector_all("figure figcaption", "els => els.map(e => e.innerText)")
    assert captions and captions[0].startswith("Figure 1.")
    assert all(f"Figure {i}." in c for i, c in enumerate(captions, start=1))
    page.close()
