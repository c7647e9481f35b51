"""`infra-policy site` end to end: links, escaping, determinism, atomic replacement, records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import example_files
from rdflib import Graph
from sitecheck import Page, broken_links, build, pages, tree

from infra_policy.cli.main import main
from infra_policy.site.publish import publish
from infra_policy.site.render import MARKER

HOSTILE_ORG = "<script>alert(1)</script>"
HOSTILE_WORKLOAD = "Q&A \"quoted\" 'single' <b>bold</b> & co"


@pytest.fixture(scope="module")
def example_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("examples") / "site"
    result = build(out, *example_files())
    assert result.exit_code == 0, result.output
    return out


def test_site_has_every_page(example_site):
    files = tree(example_site)
    for name in ("index.html", "rules.html", "factors.html", "sources.html", "search-index.js", MARKER):
        assert name in files
    for twin in ("index.json", "rules.json", "factors.json", "sources.json"):
        assert json.loads(files[twin]), twin
    overview = json.loads(files["index.json"])
    assert len(overview) == len(example_files())
    assert all(e["page"] in files and e["record"] in files for e in overview)
    assert all(e["provenance"]["turtle"] in files and e["provenance"]["jsonld"] in files for e in overview)
    decisions = [p for p in files if p.startswith("decisions/") and p.endswith(".json")]
    assert len(decisions) == len(example_files())
    for twin in decisions:
        stem = twin.removesuffix(".json")
        assert f"{stem}.html" in files and f"{stem}.facts.html" in files
        assert json.loads(files[twin])["format"] == "infra-policy/decision@1"
    assert any(p.startswith("factors/") for p in files)


def _twins(site: Path, page_path: Path) -> dict[str, Path]:
    """The downloads a decision page offers, by file extension."""
    page = Page(page_path.read_text(encoding="utf-8"))
    found = {}
    for tag, attrs in page.tags:
        if tag == "a" and "download" in attrs:
            target = page_path.parent / attrs["href"]
            found[target.name.split(".", 1)[1]] = target
    return found


def test_every_decision_page_offers_json_turtle_and_jsonld_that_parse_back(example_site):
    decision_pages = [p for p in sorted((example_site / "decisions").glob("*.html")) if ".facts." not in p.name]
    assert len(decision_pages) == len(example_files())
    for page_path in decision_pages:
        twins = _twins(example_site, page_path)
        assert set(twins) == {"json", "prov.ttl", "prov.jsonld"}, page_path.name
        assert all(t.is_file() for t in twins.values())
        decision = json.loads(twins["json"].read_text(encoding="utf-8"))
        turtle = Graph().parse(twins["prov.ttl"], format="turtle")
        jsonld = Graph().parse(twins["prov.jsonld"], format="json-ld")
        assert set(turtle) == set(jsonld) and len(turtle) > 0
        subjects = {str(s) for s in turtle.subjects()}
        assert {n["id"] for n in decision["justification"]["nodes"]} <= subjects


def test_decision_records_publish_with_their_twins(tmp_path):
    example = next(p for p in example_files() if p.name.startswith("northwind"))
    records = tmp_path / "records"
    runner = CliRunner()
    result = runner.invoke(main, ["evaluate", str(example), "--record", str(records), "-o", str(tmp_path / "x.txt")])
    assert result.exit_code == 0, result.output
    (record_file,) = records.glob("*.json")
    record = json.loads(record_file.read_text(encoding="utf-8"))
    site = tmp_path / "site"
    result = runner.invoke(main, ["site", "--records", str(records), "-o", str(site)])
    assert result.exit_code == 0, result.output
    assert broken_links(site) == []
    (page_path,) = [p for p in (site / "decisions").glob("*.html") if ".facts." not in p.name]
    twins = _twins(site, page_path)
    assert twins["json"].read_bytes() == record_file.read_bytes()
    turtle = Graph().parse(twins["prov.ttl"], format="turtle")
    assert set(turtle) == set(Graph().parse(twins["prov.jsonld"], format="json-ld"))
    text = " ".join(" ".join(Page(page_path.read_text(encoding="utf-8")).text).split())
    assert record["id"] in text and record["decision"]["organization"]["name"] in text
    assert "Break-even" in text and "can only be told with the facts" in text


def test_every_internal_link_and_anchor_resolves(example_site):
    assert broken_links(example_site) == []


def test_nothing_refers_outside_the_site(example_site):
    # Links and sources in the HTML are checked by broken_links; styles and scripts load nothing.
    for path, content in tree(example_site).items():
        if path.endswith((".css", ".js")):
            text = content.decode("utf-8")
            for needle in ("http:", "https:", "url(", "@import", "fetch(", "XMLHttpRequest", "//cdn"):
                assert needle not in text, f"{path} contains {needle}"
    for path, page in pages(example_site).items():
        for tag, attrs in page.tags:
            assert not (tag == "link" and attrs.get("rel") != "stylesheet"), path
            assert tag not in ("iframe", "object", "embed", "img", "form"), path


def test_overview_lists_every_organization_with_its_stance(example_site):
    index = Page((example_site / "index.html").read_text(encoding="utf-8"))
    rows = [a for tag, a in index.tags if tag == "tr" and "data-stance" in a]
    assert len(rows) == len(example_files())
    assert {a["data-stance"] for a in rows} == {"cloud", "in-house", "hybrid", "conflict", "undetermined"}


def test_rules_page_says_where_each_rule_fired(example_site):
    rules = (example_site / "rules.html").read_text(encoding="utf-8")
    assert "privacy.sensitive-data" in rules and "Fired" in rules and "Did not fire" in rules


def test_facts_page_shows_the_file_as_given(example_site):
    facts = next(example_site.glob("decisions/acme-*.facts.html")).read_text(encoding="utf-8")
    source = (Path(example_files()[0]).parent / "acme-mixed-workloads.ttl").read_text(encoding="utf-8")
    assert 'id="L45"' in facts
    assert "ip:dataSensitivity ip:Confidential" in facts and len(source.splitlines()) > 45


def test_hostile_names_show_as_text(tmp_path, facts_file):
    path = facts_file(
        f"""
        ex:org a ip:Organization ; ip:name {json.dumps(HOSTILE_ORG)} ;
          ip:hasWorkload ex:w .
        ex:w a ip:Workload ; ip:name {json.dumps(HOSTILE_WORKLOAD)} ; ip:dataSensitivity ip:Public .
        """,
        name="hostile.ttl",
    )
    out = tmp_path / "site"
    result = build(out, path)
    assert result.exit_code == 0, result.output
    for page_path, page in pages(out).items():
        scripts = [a for tag, a in page.tags if tag == "script"]
        assert all(a.get("src", "").endswith("assets/site.js") for a in scripts), page_path
        assert not [tag for tag, _ in page.tags if tag == "b"], page_path
    decision = next(out.glob("decisions/*.html"))
    raw = decision.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert "<script>alert" not in raw and "<b>bold" not in raw
    text = " ".join(Page(raw).text)
    assert HOSTILE_ORG in text and HOSTILE_WORKLOAD in text
    # The search index is data in a script file of its own; the page shows its entries with textContent.
    prefix = "window.INFRA_POLICY_SEARCH = "
    index = (out / "search-index.js").read_text(encoding="utf-8")
    assert index.startswith(prefix)
    entries = json.loads(index.removeprefix(prefix).rstrip().removesuffix(";"))
    assert ["decision", HOSTILE_ORG] in [e[:2] for e in entries]
    assert broken_links(out) == []


def test_same_inputs_same_bytes(tmp_path):
    files = example_files()
    first, second = tmp_path / "one", tmp_path / "two"
    assert build(first, *files).exit_code == 0
    assert build(second, *reversed(files)).exit_code == 0
    assert tree(first) == tree(second)
    assert build(first, *files).exit_code == 0  # rebuilding in place changes nothing either
    assert tree(first) == tree(second)


def test_failed_build_leaves_the_previous_site(tmp_path, facts_file):
    out = tmp_path / "public" / "site"
    assert build(out, *example_files()[:2]).exit_code == 0
    before = tree(out)
    bad = facts_file("ex:org a ip:Organization ; ip:dataSensitivity ip:Secretish .", name="bad.ttl")
    result = CliRunner().invoke(main, ["site", str(example_files()[2]), str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert "bad.ttl" in result.output and "Traceback" not in result.output
    assert tree(out) == before
    # no half-built folder is left; the cache of evaluations stays beside the site
    assert sorted(p.name for p in out.parent.iterdir()) == [".infra-policy-cache", "site"]


def test_publish_failing_midway_keeps_the_old_site(tmp_path):
    out = tmp_path / "site"
    publish([(MARKER, b"x"), ("index.html", b"old")], out)

    def pages_then_failure():
        yield MARKER, b"x"
        yield "index.html", b"new"
        raise RuntimeError("the renderer broke")

    with pytest.raises(RuntimeError):
        publish(pages_then_failure(), out)
    assert (out / "index.html").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_refuses_to_replace_a_folder_it_did_not_build(tmp_path):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.txt").write_text("precious", encoding="utf-8")
    result = CliRunner().invoke(main, ["site", str(example_files()[0]), "-o", str(out)])
    assert result.exit_code == 2
    assert "not built by `infra-policy site`" in result.output
    assert (out / "thesis.txt").read_text(encoding="utf-8") == "precious"


def test_needs_facts_or_records(tmp_path):
    result = CliRunner().invoke(main, ["site", "-o", str(tmp_path / "s")])
    assert result.exit_code == 2 and "at least one FACTS file or --records" in result.output


def test_recorded_decisions_render_like_evaluated_ones(tmp_path):
    example = next(p for p in example_files() if p.name.startswith("acme"))
    records = tmp_path / "records"
    records.mkdir()
    runner = CliRunner()
    evaluated = runner.invoke(main, ["evaluate", str(example), "--format", "json", "-o", str(records / "acme.json")])
    assert evaluated.exit_code == 0, evaluated.output
    live, recorded = tmp_path / "live", tmp_path / "recorded"
    assert build(live, example).exit_code == 0
    result = runner.invoke(main, ["site", "--records", str(records), "-o", str(recorded)])
    assert result.exit_code == 0, result.output
    live_page = Page(next(live.glob("decisions/acme-*[0-9a-f].html")).read_text(encoding="utf-8"))
    rec_path = next(recorded.glob("decisions/acme-*[0-9a-f].html"))
    rec_page = Page(rec_path.read_text(encoding="utf-8"))
    assert live_page.ids == rec_page.ids
    twin = rec_path.with_suffix(".json")
    assert twin.read_bytes() == (records / "acme.json").read_bytes()
    assert broken_links(recorded) == []
    assert "published from a record" in rec_path.with_name(rec_path.stem + ".facts.html").read_text(encoding="utf-8")


def test_a_bad_record_is_a_clear_input_error(tmp_path):
    records = tmp_path / "records"
    records.mkdir()
    (records / "old.json").write_text('{"format": "infra-policy/decision@0"}', encoding="utf-8")
    result = CliRunner().invoke(main, ["site", "--records", str(records), "-o", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "old.json: not a decision document" in result.output
    assert not (tmp_path / "s").exists()


def test_installed_command_builds_the_site(tmp_path):
    out = tmp_path / "site"
    run = subprocess.run(
        [str(Path(sys.executable).parent / "infra-policy"), "site", str(example_files()[0]), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "published 1 decision" in run.stdout
    assert (out / "index.html").is_file()


def test_same_bytes_from_separate_processes(tmp_path):
    """String hashing differs per process: nothing published may follow it (the PROV-O twins once did)."""
    examples = [p for p in example_files() if p.name.startswith(("acme", "northwind"))]
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / f"site-{seed}"
        command = [str(Path(sys.executable).parent / "infra-policy"), "site", "--jobs", "1", "-o", str(out)]
        run = subprocess.run(
            [*command, *map(str, examples)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert run.returncode == 0, run.stderr
        trees.append(tree(out))
    assert any(name.endswith(".prov.jsonld") for name in trees[0])
    assert trees[0] == trees[1]


def _many_facts(directory: Path, copies: int) -> list[Path]:
    directory.mkdir()
    paths = []
    for n in range(copies):
        for example in example_files():
            path = directory / f"{n}-{example.name}"
            path.write_bytes(example.read_bytes())
            paths.append(path)
    return paths


def test_parallel_evaluation_gives_the_same_site(tmp_path):
    paths = _many_facts(tmp_path / "facts", 4)
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert build(serial, "--jobs", "1", *paths).exit_code == 0
    assert build(parallel, "--jobs", "2", *paths).exit_code == 0
    assert tree(serial) == tree(parallel)
    assert len(list(serial.glob("decisions/*.json"))) == len(paths)


def test_a_bad_file_fails_a_parallel_build_cleanly(tmp_path, facts_file):
    paths = _many_facts(tmp_path / "facts", 4)
    bad = facts_file("ex:org a ip:Organization ; ip:itStaffFTE -3 .", name="negative.ttl")
    result = CliRunner().invoke(main, ["site", "--jobs", "2", *map(str, paths), str(bad), "-o", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "negative.ttl" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "s").exists()


def test_a_record_from_older_rules_links_only_to_what_exists(tmp_path):
    example = next(p for p in example_files() if p.name.startswith("acme"))
    records = tmp_path / "records"
    records.mkdir()
    result = CliRunner().invoke(main, ["evaluate", str(example), "--format", "json"])
    assert result.exit_code == 0
    older = (
        result.output.replace("privacy.sensitive-data", "privacy.retired-rule")
        .replace('"factor": "privacy"', '"factor": "retired-factor"')
        .replace("inhouse-pro-data-privacy", "retired-claim")
    )
    (records / "older.json").write_text(older, encoding="utf-8")
    out = tmp_path / "site"
    assert CliRunner().invoke(main, ["site", "--records", str(records), "-o", str(out)]).exit_code == 0
    assert broken_links(out) == []
    page = next(out.glob("decisions/acme-*[0-9a-f].html")).read_text(encoding="utf-8")
    assert 'privacy.retired-rule</code> <span class="muted small">(not in the current rules)' in page
    assert "claim:retired-claim" in page


def test_why_not_on_a_decision_page_says_what_would_have_to_change(example_site):
    pages = [
        data.decode("utf-8")
        for name, data in tree(example_site).items()
        if name.startswith("decisions/") and name.endswith(".html") and not name.endswith(".facts.html")
    ]
    acme = [text for text in pages if "Claims triage" in text and "Campaign copy" in text]
    assert acme and all("the model availability would have to be hosted only; it is not stated" in p for p in acme)
    failed = [part.split("<", 1)[0] for text in pages for part in text.split('class="failed">')[1:]]
    assert failed and not any("was not given" in text or "_" in text for text in failed)


def test_a_large_organization_says_what_would_change_it_was_not_searched(tmp_path):
    # more workloads than the default search covers: the page says it was left out, never "nothing could"
    from infra_policy.engine.pipeline import EXPLORE_CHANGES_UP_TO

    lines = [
        "@prefix ip: <https://w3id.org/infra-policy#> .",
        "@prefix ex: <https://example.com/big/> .",
        'ex:org a ip:Organization ; ip:name "Big" ; ip:capitalBudgetUSD 10000 ; ip:itStaffFTE 0.5 .',
    ]
    for i in range(EXPLORE_CHANGES_UP_TO + 1):
        lines.append(
            f'ex:org ip:hasWorkload ex:w{i} . ex:w{i} a ip:Workload ; ip:name "W{i}" ; ip:demandPattern ip:Bursty .'
        )
    facts = tmp_path / "big.ttl"
    facts.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["site", str(facts), "-o", str(tmp_path / "site"), "--no-cache"])
    assert result.exit_code == 0, result.output
    (page,) = [
        p for p in (tmp_path / "site").rglob("*.html") if "W0" in p.read_text() and "What would change" in p.read_text()
    ]
    text = page.read_text()
    assert "Not searched: the fewest changes" in text and "--explore-changes" in text
    assert "No fact left out could change this stance" not in text
