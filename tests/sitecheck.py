"""Helpers of the site tests: build a site through the real CLI, read its HTML."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from click.testing import CliRunner

from infra_policy.cli.main import main


def build(out: Path, *args: str | Path) -> object:
    """Run `infra-policy site ARGS -o OUT` in-process and return click's result."""
    return CliRunner().invoke(main, ["site", *map(str, args), "-o", str(out)], catch_exceptions=False)


class Page(HTMLParser):
    """The ids, links and elements of one HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.append((tag, found))
        if "id" in found:
            self.ids.add(found["id"])
        for name in ("href", "src", "xlink:href"):
            if name in found:
                self.links.append(found[name])

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def pages(site: Path) -> dict[Path, Page]:
    return {p: Page(p.read_text(encoding="utf-8")) for p in sorted(site.rglob("*.html"))}


def broken_links(site: Path) -> list[str]:
    """Every internal link or anchor that does not resolve, and every link leaving the site."""
    parsed = pages(site)
    problems = []
    for path, page in parsed.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("/"):
                problems.append(f"{path.relative_to(site)}: link leaves the site: {link}")
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.is_file() or site.resolve() not in target.parents:
                problems.append(f"{path.relative_to(site)}: {link} → no such file")
                continue
            if parts.fragment:
                ids = parsed[target].ids if target in parsed else set()
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{path.relative_to(site)}: {link} → no such anchor")
    return problems


def tree(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}
