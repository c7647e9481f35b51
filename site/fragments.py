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

from .anchors import factor_page, rule_anchor


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


def source_rows(lines: Iterable[str]) -> markupsafe.Markup:
    """The rows of a facts file shown as given, numbered from 1, each linkable (``#L12``) and on its own line."""
    return markupsafe.Markup(
        "".join(
            f'      <tr id="L{n}"><td class="ln"><a href="#L{n}" aria-label="Line {n}">{n}</a></td>'
            f'<td class="code"><code>{escape(line)}</code></td></tr>\n'
            for n, line in enumerate(lines, 1)
        )
    )


# -- the small pieces every page repeats (a decision page calls them a few hundred times): jinja macros
#    cost about as much per call as a whole line of the page, so they are functions, given to the
#    templates as globals (SiteRenderer), with the markup the macros had


def badge(stance: object, prefix: object = "") -> markupsafe.Markup:
    """A stance as a coloured label."""
    return markupsafe.Markup(f'<span class="badge badge-{escape(stance)}">{escape(prefix)}{escape(stance)}</span>')


def fact_list(facts: Iterable[dict], facts_page: object) -> markupsafe.Markup:
    """The facts a reason rests on, each linked to its lines in the facts page (when the site has it)."""
    out = ['<ul class="facts">\n']
    for f in facts:
        item = f"  <li><code>ip:{escape(f['property'])}</code> = <strong>{escape(f['value'])}</strong>"
        if f["inherited"]:
            item += ' <span class="muted">(organization default)</span>'
        for line in f["lines"]:
            if facts_page:
                item += f' <a class="line-link" href="{escape(facts_page)}#L{escape(line)}">line {escape(line)}</a>'
            else:
                item += f' <span class="line-link">line {escape(line)}</span>'
        out.append(item + "</li>\n")
    out.append("</ul>")
    return markupsafe.Markup("".join(out))


def claim_links(claims: Iterable[dict], root: object) -> markupsafe.Markup:
    """The claims of the article a reason cites, linked to the sources page."""
    out = []
    for c in claims:
        if c["known"]:
            href = f"{escape(root)}sources.html#{escape(c['anchor'])}"
            item = f'<a class="claim-link" href="{href}">{escape(c["label"])}</a>'
        else:
            item = f"<code>{escape(c['label'])}</code>"
        if c["section"]:
            item += f' <span class="muted">({escape(c["section"])})</span>'
        out.append(item)
    return markupsafe.Markup("; ".join(out))


class References:
    """Links to a rule or a factor of the policy; one a recorded decision names and the policy no longer
    has is shown as text, not as a link that leads nowhere."""

    def __init__(self, known_rules: frozenset[str], known_factors: frozenset[str]) -> None:
        self.known_rules = known_rules
        self.known_factors = known_factors

    def rule_ref(self, rule: str, root: object, text: object = None) -> markupsafe.Markup:
        shown = f"<code>{escape(rule)}</code>" if text is None else escape(text)
        if rule in self.known_rules:
            return markupsafe.Markup(f'<a href="{escape(root)}rules.html#{escape(rule_anchor(rule))}">{shown}</a>')
        return markupsafe.Markup(f'{shown} <span class="muted small">(not in the current rules)</span>')

    def factor_ref(self, factor: str, label: object, root: object) -> markupsafe.Markup:
        if factor in self.known_factors:
            return markupsafe.Markup(f'<a href="{escape(root)}{escape(factor_page(factor))}">{escape(label)}</a>')
        return markupsafe.Markup(escape(label))

    def why_not_list(self, questions: list[dict], root: object) -> markupsafe.Markup:
        """Why not each other stance: the rules that did not decide or apply and what they lack, or for a
        decision published from a record, what the record tells (the questions of ``SiteRenderer._why_not``).

        A page has a few of these lists, each of tens of rules: as a jinja macro they took about a third of
        the time to render a decision page.
        """
        out = []
        if questions and questions[0]["answer"] is None:
            out.append(_FROM_RECORD)
        out.append('<dl class="why-not">\n')
        for q in questions:
            asked, answer = q["stance"], q["answer"]
            out.append(f"  <dt>Why not {badge(asked)}?</dt>\n  <dd>\n")
            if answer is not None:
                stance_rules, factor_rules = answer["stance_rules"], answer["factor_rules"]
                if stance_rules:
                    rules = "rule" if len(stance_rules) == 1 else "rules"
                    out.append(f"    <p>The stance {rules} for {escape(asked)} did not decide:</p>\n")
                    out.append('    <ul class="missed">\n')
                    out.extend(f"<li>{self._missed(m, root)}</li>" for m in stance_rules)
                    out.append("    </ul>\n")
                else:
                    out.append(f"    <p>No stance rule sets {escape(asked)} here.</p>\n")
                if factor_rules:
                    out.append(
                        f"    <p>Rules that would have supported {escape(asked)} and did not apply, strongest "
                        "first:</p>\n"
                        '    <ul class="missed">\n'
                    )
                    out.extend(f"<li>{self._missed(m, root, True)}</li>" for m in factor_rules[:5])
                    out.append("    </ul>\n")
                    if len(factor_rules) > 5:
                        out.append(
                            f'    <details class="more"><summary>{len(factor_rules) - 5} more</summary>\n'
                            '    <ul class="missed">\n'
                        )
                        out.extend(f"<li>{self._missed(m, root, True)}</li>" for m in factor_rules[5:])
                        out.append("    </ul>\n    </details>\n")
            else:
                favoring, missing = q["favoring"], q["missing"]
                if favoring:
                    reasons = "; ".join(
                        f"{self.rule_ref(a['rule'], root, a['title'])} (weight {escape(a['weight'])})" for a in favoring
                    )
                    out.append(f"<p>Recorded reasons for {escape(asked)}: {reasons}.</p>")
                if missing:
                    facts = "; ".join(
                        f"<code>ip:{escape(m['fact'])}</code> ({escape(m['label'])}"
                        + "".join(f", e.g. {escape(o['example'])}" for o in m["could_lead_to"] if o["stance"] == asked)
                        + ")"
                        for m in missing
                    )
                    out.append(f"<p>Facts not given that could lead here: {facts}.</p>")
                if not favoring and not missing:
                    out.append(f"<p>No recorded reason or missing fact points to {escape(asked)}.</p>")
            out.append("  </dd>\n")
        out.append("</dl>\n")
        return markupsafe.Markup("".join(out))

    def _missed(self, m: dict, root: object, adds: bool = False) -> str:
        """A rule that did not decide or apply: its title, what it would add and what it lacks."""
        shown = str(self.rule_ref(m["rule"], root, m["title"]))
        if adds:
            shown += f' <span class="muted">({escape(m["would_add"])})</span>'
        lacks = "; ".join(escape(c) for c in m["changes"]) if m["changes"] else escape(m["failed"])
        return f'{shown} — <span class="failed">{lacks}</span>'


_FROM_RECORD = (
    '<p class="muted">This decision was published from a record, without its facts: which rule tests failed can '
    "only be told with the facts (<code>infra-policy explain FACTS --why-not STANCE</code>). What the record "
    "shows:</p>\n"
)
