"""Site output never escapes its folder (issue 16, item 1): ids from a knowledge base become slugs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES
from conftest import invoke_cli as run

from infra_policy.engine.files import OutputError
from infra_policy.engine.paths import PACKAGED_KB
from infra_policy.site.anchors import factor_page
from infra_policy.site.publish import publish

HOSTILE_FACTOR = """
<https://w3id.org/infra-policy/factor/{climb}{escape}/TRAVERSED>
    a <https://w3id.org/infra-policy#Factor> ;
    <http://www.w3.org/2000/01/rdf-schema#label> "Traversal"@en ;
    <http://www.w3.org/2000/01/rdf-schema#comment> "A factor whose id climbs out of the site."@en ;
    <https://w3id.org/infra-policy#order> 99 .
"""


def test_a_factor_id_that_climbs_out_of_the_site_gets_a_page_inside_it(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(PACKAGED_KB, kb)
    escape = tmp_path / "escaped"
    with (kb / "factors.ttl").open("a", encoding="utf-8") as handle:
        handle.write(HOSTILE_FACTOR.format(climb="../" * 40, escape=str(escape).lstrip("/")))
    site = tmp_path / "work" / "site"
    site.parent.mkdir()
    result = run("site", EXAMPLES / "startup-cloud.ttl", "-o", site, "--kb", kb)
    assert result.exit_code == 0, result.output
    assert not escape.exists()
    written = {p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(kb)}
    assert all(p.is_relative_to(site) for p in written)
    (page,) = [p for p in (site / "factors").iterdir() if "Traversal" in p.read_text(encoding="utf-8")]
    # the factors page links to the page that was written
    assert f'href="factors/{page.name}"' in (site / "factors.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("factor", ["../x", "a/b", "..", "/etc/passwd", "Privacy Risk", "é", ""])
def test_every_factor_id_gives_a_plain_page_name(factor):
    name = factor_page(factor)
    assert name.startswith("factors/") and name.count("/") == 1 and ".." not in name
    assert factor_page(factor) != factor_page(factor + "x")


@pytest.mark.parametrize("relative", ["../out.html", "a/../../b", "/abs.html", "a//b", "a/./b"])
def test_publish_refuses_a_path_that_is_not_plain_names(tmp_path, relative):
    out = tmp_path / "site"
    with pytest.raises(OutputError, match="refusing to write the site file"):
        publish([("index.html", b"ok"), (relative, b"x")], out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no staging folder left behind


def test_publish_refuses_two_files_with_one_name(tmp_path):
    with pytest.raises(OutputError, match="twice"):
        publish([("a.html", b"1"), ("a.html", b"2")], tmp_path / "site")
    assert not Path(tmp_path / "site").exists()
