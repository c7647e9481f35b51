"""The published site in a real browser: Debian's chromium, headless, from file://.

No request may leave the page (every request is recorded), no console error
may appear, and the interactive parts (stance filter, search, links into the
trail) must work with the mouse and the keyboard.  Screenshots land in
tests/artifacts/ for people to look at.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import example_files
from playwright.sync_api import sync_playwright
from sitecheck import build


def _find_chromium() -> str | None:
    """$CHROMIUM if set, else Debian's chromium (what .ci/run installs), else one on PATH."""
    if "CHROMIUM" in os.environ:
        return os.environ["CHROMIUM"] if Path(os.environ["CHROMIUM"]).is_file() else None
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM = _find_chromium()
if CHROMIUM is None:
    # On a fresh machine the rest of the suite still runs; in CI (where .ci/run
    # installs chromium) a missing browser is a failure, never a silent skip.
    if os.environ.get("CI"):
        pytest.fail("CI is set but no chromium was found (apt-get install chromium).", pytrace=False)
    pytest.skip(
        "no chromium found (apt-get install chromium); set CI=1 to make this a failure", allow_module_level=True
    )
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser")
    hostile = base / "hostile.ttl"
    hostile.write_text(
        "@prefix ip: <https://w3id.org/infra-policy#> .\n@prefix ex: <https://example.com/h/> .\n"
        f"ex:org a ip:Organization ; ip:name {json.dumps(HOSTILE)} ; ip:hasWorkload ex:w .\n"
        'ex:w a ip:Workload ; ip:name "Q&A \\"quoted\\" <img src=x onerror=alert(2)>" ; '
        "ip:dataSensitivity ip:Public .\n",
        encoding="utf-8",
    )
    out = base / "site"
    result = build(out, *example_files(), hostile)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Watched:
    """A page with its console errors, uncaught exceptions, dialogs and requests recorded."""

    def __init__(self, browser, width: int = 1280, height: int = 900) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self, path: Path) -> Watched:
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")
        return self

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.dialogs == []
        assert self.requests, "the recorder saw no request at all"
        assert [url for url in self.requests if not url.startswith("file://")] == []

    def close(self) -> None:
        self.page.close()


def _decision(site: Path, prefix: str) -> Path:
    return next(p for p in sorted(site.glob(f"decisions/{prefix}*.html")) if not p.name.endswith(".facts.html"))


def test_overview_loads_offline_and_filters_by_stance(site, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    w = Watched(browser).open(site / "index.html")
    page = w.page
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
    rows = page.locator("table.decisions tbody tr")
    total = rows.count()
    assert total == len(example_files()) + 1
    page.get_by_role("button", name="cloud", exact=False).first.click()
    visible = [r for r in rows.all() if r.is_visible()]
    assert visible and all(r.get_attribute("data-stance") == "cloud" for r in visible)
    assert page.locator("button[data-filter=cloud]").get_attribute("aria-pressed") == "true"
    assert "Showing" in page.locator("#filter-status").inner_text()
    page.locator("button[data-filter=all]").click()
    assert sum(1 for r in rows.all() if r.is_visible()) == total
    w.assert_clean()
    w.close()


def test_overview_on_a_phone(site, browser):
    w = Watched(browser, width=390, height=844).open(site / "index.html")
    w.page.screenshot(path=str(ARTIFACTS / "overview-phone.png"), full_page=True)
    # Nothing forces the page wider than the phone.
    assert w.page.evaluate("document.documentElement.scrollWidth") <= 390
    w.assert_clean()
    w.close()


def test_decision_page_graph_links_to_the_trail(site, browser):
    w = Watched(browser).open(_decision(site, "acme-insurance"))
    page = w.page
    page.screenshot(path=str(ARTIFACTS / "decision.png"))
    page.screenshot(path=str(ARTIFACTS / "decision-full.png"), full_page=True)
    assert page.locator("svg.justification > title").first.text_content().startswith("Justification graph")
    assert page.locator("svg.balance").count() == 2
    assert not page.locator("svg.justification").is_visible()  # folded: the outline comes first
    page.locator("details.graph-details > summary").click()
    node = page.locator("svg.justification a.node-stance").last
    target = node.get_attribute("href")
    node.click()
    assert page.evaluate("location.hash") == target
    entry = page.locator(target)
    assert entry.is_visible() and "stance" in entry.inner_text()
    # The same with the keyboard: graph nodes take focus and follow on Enter.
    firing = page.locator("svg.justification a.node-firing").first
    firing.focus()
    assert page.evaluate("document.activeElement.getAttribute('href')") == firing.get_attribute("href")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == firing.get_attribute("href")
    assert page.locator(firing.get_attribute("href")).is_visible()
    w.assert_clean()
    w.close()


def test_every_page_kind_opens_without_errors(site, browser):
    paths = [
        _decision(site, "meridian"),
        next(site.glob("decisions/acme-*.facts.html")),
        site / "rules.html",
        site / "factors.html",
        next(site.glob("factors/*.html")),
        site / "sources.html",
    ]
    for path in paths:
        w = Watched(browser).open(path)
        assert w.page.locator("h1").count() == 1, path
        w.assert_clean()
        w.close()


def test_search_with_the_keyboard(site, browser):
    w = Watched(browser).open(site / "rules.html")
    page = w.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.locator("#search-input").focus()
    page.keyboard.type("meridian")
    results = page.locator("#search-results a")
    results.first.wait_for()
    assert "Meridian Credit Union" in results.first.inner_text()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('#search-results') !== null")
    page.keyboard.press("Enter")
    page.wait_for_url("**/decisions/meridian-*.html")
    assert page.locator("h1").inner_text() == "Meridian Credit Union"
    w.assert_clean()
    w.close()


def test_hostile_names_stay_text_in_the_browser(site, browser):
    w = Watched(browser).open(_decision(site, "script-alert-1-script"))
    page = w.page
    assert page.locator("h1").inner_text() == HOSTILE
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 1  # the site's own script only
    page.locator("#search-input").fill("script")
    page.locator("#search-results a").first.wait_for()
    assert HOSTILE in page.locator("#search-results").inner_text()
    assert page.locator("#search-results script, #search-results img").count() == 0
    w.assert_clean()
    w.close()


def test_decision_page_with_costs_and_data_twins(site, browser):
    w = Watched(browser).open(_decision(site, "northwind-analytics"))
    page = w.page
    cost = page.locator("section.cost").first
    cost.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "decision-cost.png"), full_page=True)
    cost.screenshot(path=str(ARTIFACTS / "decision-cost-section.png"))
    assert cost.is_visible() and "Break-even" in cost.inner_text()
    assert cost.locator("tbody tr").count() >= 3
    twins = page.locator(".downloads a[download]")
    assert [t.inner_text().split()[0] for t in twins.all()] == ["JSON", "Turtle", "JSON-LD"]
    w.assert_clean()
    w.close()
    # On a phone the cost table stacks: nothing is wider than the screen.
    phone = Watched(browser, width=390, height=844).open(_decision(site, "northwind-analytics"))
    table = phone.page.locator("section.cost table").first
    table.scroll_into_view_if_needed()
    phone.page.screenshot(path=str(ARTIFACTS / "decision-cost-phone.png"))
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth")
    phone.assert_clean()
    phone.close()


@pytest.mark.parametrize("width", [400, 1400])
def test_no_decision_page_scrolls_sideways_and_the_outline_links_open_the_trail(site, browser, width):
    for path in sorted((site / "decisions").glob("*.html")):
        if path.name.endswith(".facts.html"):
            continue
        w = Watched(browser, width=width).open(path)
        page = w.page
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path.name
        outline = page.locator("ul.outline").first
        assert outline.is_visible()
        assert page.evaluate("e => e.scrollWidth <= e.clientWidth + 1", outline.element_handle()), path.name
        link = page.locator("ul.outline a.trail-link").first
        if link.count():
            target = link.get_attribute("href")
            assert not page.locator(target).is_visible()  # the trail is folded away
            link.click()
            assert page.locator(target).is_visible(), path.name  # following a link unfolds it
        w.assert_clean()
        w.close()
    if width == 400:
        w = Watched(browser, width=width).open(_decision(site, "harbourline"))
        w.page.screenshot(path=str(ARTIFACTS / "decision-phone.png"), full_page=True)
        w.close()


@pytest.fixture(scope="module")
def history_site(tmp_path_factory):
    """A site with three records of one organization (a decision log orders them) and its facts now."""
    from click.testing import CliRunner

    from infra_policy.cli.main import main

    base = tmp_path_factory.mktemp("history")
    records, log = base / "records", base / "decisions.jsonl"
    source = (Path(__file__).resolve().parent.parent / "examples" / "acme-mixed-workloads.ttl").read_text("utf-8")
    path = base / "acme.ttl"
    for text in (
        source,
        source.replace("ip:itStaffFTE 4", "ip:itStaffFTE 0.5"),
        source.replace("ip:itStaffFTE 4", "ip:itStaffFTE 0.5").replace("ip:Confidential", "ip:Public"),
    ):
        path.write_text(text, encoding="utf-8")
        command = ["evaluate", str(path), "--record", str(records), "--log", str(log), "-o", str(base / "x.txt")]
        assert CliRunner().invoke(main, command).exit_code == 0
    out = base / "site"
    result = build(out, path, *example_files()[:4], "--records", records, "--log", log, "--explain")
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("width", [400, 1400])
def test_history_page_reads_at_every_width_and_leads_to_the_decisions(history_site, browser, width):
    w = Watched(browser, width=width).open(history_site / "index.html")
    page = w.page
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # the long record file names are shortened on the page and whole on hover
    source = page.locator("td.source-name span[title$='.json']").first
    assert len(source.get_attribute("title")) == 69 and "…" in source.inner_text()
    link = page.locator("a.history-link").first
    assert "3 records" in link.inner_text()
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/history/*.html")
    assert page.locator("h1").inner_text() == "History of Acme Insurance"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    entries = page.locator("li.history-entry")
    assert entries.count() == 3
    assert "IT staff (FTE) 4 → 0.5" in entries.nth(1).inner_text()
    page.screenshot(path=str(ARTIFACTS / f"history-{width}.png"), full_page=True)
    entries.nth(2).get_by_role("link", name="Decision page").click()
    page.wait_for_url("**/decisions/*.html")
    assert page.locator("h1").inner_text() == "Acme Insurance"
    assert "also recorded" in page.locator(".recorded").inner_text()
    # --explain: the facts that decide each workload and the smallest changes, within the page's width
    explanation = page.locator("div.explanation").first
    assert "facts decide it" in explanation.inner_text() and "To make it" in explanation.inner_text()
    explanation.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    w.assert_clean()
    w.close()


@pytest.mark.parametrize("width", [400, 1400])
def test_factor_page_links_to_the_decisions_where_its_rules_fired(site, browser, width):
    w = Watched(browser, width=width).open(site / "factors" / "privacy.html")
    page = w.page
    summary = page.locator("details.fired > summary").first
    assert "Fired" in summary.inner_text()
    summary.focus()
    page.keyboard.press("Enter")  # details open with the keyboard
    link = page.locator("details.fired ul.fired-list a").first
    assert link.is_visible()
    target = link.get_attribute("href")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    link.click()
    page.wait_for_url("**/decisions/*.html*")
    anchor = target.split("#", 1)[1]
    assert page.evaluate("location.hash") == f"#{anchor}"
    assert page.locator(f"#{anchor}").is_visible()  # the trail unfolds to show the firing
    w.assert_clean()
    w.close()
