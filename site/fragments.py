"""The two largest parts of a decision page, written here rather than in a template: the trail and the
boxes and links of the justification graph's SVG.

Why: they list every node of the justification graph (a box, and a trail entry with links to what it
rests on and what it supports), thousands of values a page. Through jinja each value costs an
``escape()`` call, an attribute lookup and a generator step, and these two parts took about 60% of
the time to render a page; a site publishes thousands of pages. Here each node is one f-string.

Every value is escaped by :func:`escape`, which gives markupsafe's bytes (what the templates'
autoescaping writes), so the page is the same as when the template wrote these parts.
``decision.html`` places them; change their markup here.
"""

from __future__ import annotations

from collections.abc import Iterable

import markupsafe


def escape(value: object) -> str:
    """``str(markupsafe.escape(value))``: ``& < > ' "`` as markupsafe writes them, for any value."""
    if type(value) is str:
        if "&" in value or "<" in value or ">" in value or "'" in value or '"' in value:
            return (
                value.replace("&", "&amp;")
                .replace(">", "&gt;")
                .replace("<", "&lt;")
                .replace("'", "&#39;")
                .replace('"', "&#34;")
            )
        return value
    return str(markupsafe.escape(value))


def trail_entries(entries: Iterable[dict]) -> markupsafe.Markup:
    """The ``<li>`` of each trail entry (see ``SiteRenderer._trail``), one per line group, joined by newlines."""
    items = []
    for e in entries:
        anchor, kind = escape(e["anchor"]), escape(e["kind"])
        link = e["link"]
        parts = [
            f'    <li id="{anchor}" class="trail-entry kind-{kind}">\n'
            f'      <p class="trail-label"><a class="permalink" href="#{anchor}" aria-label="Permalink to this '
            f'{kind}">#</a><span class="kind">{kind}</span> {escape(e["label"])}'
        ]
        if link:
            parts.append(f' · <a href="{escape(link[0])}">{escape(link[1])}</a>')
        parts.append("</p>\n")
        if e["attrs"]:
            shown = "".join(f'<span><span class="muted">{escape(k)}</span> {escape(v)}</span>' for k, v in e["attrs"])
            parts.append(f'<p class="trail-attrs">{shown}</p>')
        if e["inputs"]:
            links = ", ".join(
                f'<a href="#{escape(a)}">{escape(label)}</a> <span class="rel">{escape(rel)}</span>'
                for rel, label, a in e["inputs"]
            )
            parts.append(f'<p class="trail-links"><span class="muted">rests on</span> {links}</p>')
        if e["outputs"]:
            links = ", ".join(f'<a href="#{escape(a)}">{escape(label)}</a>' for _, label, a in e["outputs"])
            parts.append(f'<p class="trail-links"><span class="muted">supports</span> {links}</p>')
        parts.append(f'      <p class="iri"><code>{escape(e["id"])}</code></p>\n    </li>')
        items.append("".join(parts))
    return markupsafe.Markup("\n".join(items))


def graph_edges(edges: Iterable) -> markupsafe.Markup:
    """The ``<path>`` of each link of the drawing, each on its own line."""
    return markupsafe.Markup(
        "".join(f'<path class="edge edge-{escape(e.relation)}" d="{escape(e.path)}"></path>\n' for e in edges)
    )


def graph_nodes(nodes: Iterable, width: int, height: int) -> markupsafe.Markup:
    """The box of each node of the drawing (a link to its trail entry), each on its own line."""
    width_text, height_text = escape(width), escape(height)
    out = []
    for n in nodes:
        kind, label = escape(n.kind), escape(n.label)
        out.append(
            f'    <a href="#{escape(n.anchor)}" class="node node-{kind}" aria-label="{kind}: {label}">'
            f"<title>{kind}: {label}</title>"
            f'<rect x="{escape(n.x)}" y="{escape(n.y)}" width="{width_text}" height="{height_text}" rx="5"></rect>'
            f'<text x="{escape(n.x + 8)}" y="{escape(n.y + 17)}">{escape(n.short)}</text></a>\n'
        )
    return markupsafe.Markup("".join(out))
