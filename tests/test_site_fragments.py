"""The parts of a decision page written in Python escape exactly as the templates' autoescaping does."""

from __future__ import annotations

import markupsafe
from hypothesis import given
from hypothesis import strategies as st

from infra_policy.site.fragments import References, badge, escape

_VALUES = st.one_of(
    st.lists(st.sampled_from(["a", "&", "<", ">", "'", '"', "é", " ", "\n", "&amp;"])).map("".join),
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    st.booleans(),
    st.builds(markupsafe.Markup, st.sampled_from(["<b>kept</b>", "a &amp; b"])),
)


@given(_VALUES)
def test_escape_is_markupsafes(value):
    assert escape(value) == str(markupsafe.escape(value))


def test_pieces_escape_what_they_are_given_and_a_rule_the_policy_lacks_is_text():
    refs = References(frozenset({"cost.a"}), frozenset({"f"}))
    assert (
        badge('<script>"x"') == '<span class="badge badge-&lt;script&gt;&#34;x&#34;">&lt;script&gt;&#34;x&#34;</span>'
    )
    assert refs.rule_ref("cost.a", "../", "a & b") == '<a href="../rules.html#rule-cost.a">a &amp; b</a>'
    assert refs.rule_ref("<gone>", "../") == (
        '<code>&lt;gone&gt;</code> <span class="muted small">(not in the current rules)</span>'
    )
    assert refs.factor_ref("other", "<i>", "../") == "&lt;i&gt;"
