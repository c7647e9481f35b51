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
    result = run("site", "--no-cache", EXAMPLES / "startup-cloud.ttl", "-o", site, "--kb", kb)
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


# --- the swap (issue 16, item 10) -------------------------------------------------------------


def _site(out, *facts):
    # --no-cache: these tests look for debris beside the site, where the cache would be
    return run("site", "--no-cache", *(facts or (EXAMPLES / "startup-cloud.ttl",)), "-o", out)


def test_a_rebuild_swaps_the_folders_in_one_step_and_leaves_no_debris(tmp_path):
    from infra_policy.site.publish import _exchange

    out = tmp_path / "site"
    assert _site(out).exit_code == 0
    first = (out / "index.html").read_bytes()
    assert _site(out, EXAMPLES / "hospital-in-house.ttl").exit_code == 0
    assert (out / "index.html").read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    # the exchange itself: both names stay taken throughout, their contents change places
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    assert _exchange(a, b)
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_a_build_killed_between_the_two_renames_is_repaired_by_the_next(tmp_path):
    """What the two-rename fallback leaves when killed after moving the old site away: the next run restores it."""
    out = tmp_path / "site"
    assert _site(out).exit_code == 0
    original = (out / "index.html").read_bytes()
    previous = tmp_path / ".site.previous-abc123"
    previous.mkdir()
    out.rename(previous / "site")
    unfinished = tmp_path / ".site.building-def456"
    unfinished.mkdir()
    (unfinished / "index.html").write_text("half")

    def failing_build():
        yield "index.html", b"new"
        raise OutputError("the build fails half-way")

    # even a build that then fails first puts the previous site back
    with pytest.raises(OutputError, match="half-way"):
        publish(failing_build(), out)
    assert (out / "index.html").read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert _site(out).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


@pytest.mark.parametrize("target", [".", "..", "/proc"])
def test_the_current_folder_or_a_mount_point_is_refused(tmp_path, monkeypatch, target):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = _site(Path(target))
    assert result.exit_code == 2, result.output
    assert "cannot be replaced as a whole" in result.output
    assert not any(tmp_path.glob(".*")) and sorted(p.name for p in work.iterdir()) == []
