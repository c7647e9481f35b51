"""`infra-policy site` at scale: --keep-going, the cache of evaluations and pages, records shown once, histories."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pexpect
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, example_files
from sitecheck import Page, broken_links, tree

from infra_policy.cli.main import main
from infra_policy.site.cache import Cache, key_of, salt

COUNTS = re.compile(
    r"evaluated (\d+) facts files?(?:; (\d+) from the cache)?; "
    r"rendered (\d+) decision pages?(?:, (\d+) from the cache)?"
)


def site(*args: object) -> object:
    return CliRunner().invoke(main, ["site", *map(str, args)])


def counts(result) -> tuple[int, ...]:
    """(evaluated, evaluations from the cache, rendered, pages from the cache) from the summary line."""
    found = COUNTS.search(result.output)
    assert found, result.output
    return tuple(int(g) if g is not None else 0 for g in found.groups())


@pytest.fixture
def facts(tmp_path) -> list[Path]:
    folder = tmp_path / "facts"
    folder.mkdir()
    for example in example_files()[:6]:
        shutil.copy(example, folder / example.name)
    return sorted(folder.glob("*.ttl"))


def test_a_rebuild_after_one_change_evaluates_and_renders_only_that_file(tmp_path, facts):
    out, cache = tmp_path / "site", tmp_path / "cache"
    first = site(*facts, "-o", out, "--cache", cache)
    assert first.exit_code == 0, first.output
    assert counts(first) == (6, 0, 6, 0)
    again = site(*facts, "-o", out, "--cache", cache)
    assert counts(again) == (0, 6, 0, 6)
    changed = facts[2]
    changed.write_text(changed.read_text(encoding="utf-8").replace('ip:name "', 'ip:name "Renamed ', 1))
    third = site(*facts, "-o", out, "--cache", cache)
    assert counts(third) == (1, 5, 1, 5)
    # what the cache gives is byte for byte what a build without it gives
    fresh = tmp_path / "fresh"
    assert counts(site(*facts, "-o", fresh, "--no-cache"))[0] == 6
    assert tree(out) == tree(fresh)
    assert "Renamed" in (out / "index.html").read_text(encoding="utf-8")
    assert broken_links(out) == []


def test_the_default_cache_lies_beside_the_site_and_is_private(tmp_path, facts):
    out = tmp_path / "public" / "site"
    assert site(*facts[:2], "-o", out).exit_code == 0
    cache = tmp_path / "public" / ".infra-policy-cache"
    assert cache.is_dir() and cache.stat().st_mode & 0o777 == 0o700
    assert counts(site(*facts[:2], "-o", out)) == (0, 2, 0, 2)


def test_other_settings_or_rules_never_meet_old_entries(tmp_path, facts):
    out, cache = tmp_path / "site", tmp_path / "cache"
    assert site(*facts[:3], "-o", out, "--cache", cache).exit_code == 0
    # a limit is part of every key: the same files are evaluated again
    assert counts(site(*facts[:3], "-o", out, "--cache", cache, "--max-triples", "40000"))[:2] == (3, 0)
    # so are the engine's version, its code and the digests of the rules and knowledge base
    parts = {"version": "0.1.0", "code": "c", "kb": "k", "rules": "r"}
    keys = {
        key_of(salt({**parts, changed: "other"}), "evaluation", b"facts") for changed in ("version", "code", "rules")
    }
    assert len(keys | {key_of(salt(parts), "evaluation", b"facts")}) == 4


def _entries(cache: Path, kind: str) -> list[Path]:
    return sorted(p for p in cache.rglob(f"*.{kind}") if p.is_file())


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


ALL_SECTIONS = ("summary", "meta", "files", "facts", "why_not", "explain")


def test_damaged_or_planted_entries_are_ignored_and_recomputed(tmp_path, facts):
    out, cache = tmp_path / "site", tmp_path / "cache"
    assert site(*facts[:3], "-o", out, "--cache", cache).exit_code == 0
    expected = tree(out)
    evaluations = _entries(cache, "evaluation")
    assert len(evaluations) == 3
    # 1. a byte changed in the summary: its digest no longer holds
    _flip(evaluations[0], evaluations[0].read_bytes().index(b"\n") + 5)
    # 2. a well-sealed entry (digests recomputed, as anyone can) whose summary has the wrong shape
    found = Cache(cache).load(evaluations[1].stem, "evaluation", ALL_SECTIONS)
    assert found is not None
    Cache(cache).store(evaluations[1].stem, "evaluation", {**found, "summary": b'{"organization": "x"}'})
    # 3. a truncated entry
    evaluations[2].write_bytes(evaluations[2].read_bytes()[:100])
    # 4. a pages entry that names another page of the site (index.html): never linked
    pages = _entries(cache, "pages")
    listing = Cache(cache).load(pages[0].stem, "pages", ("files",))
    assert listing is not None
    files = json.loads(listing["files"])
    files["index.html"] = next(iter(files.values()))
    Cache(cache).store(pages[0].stem, "pages", {"files": json.dumps(files).encode()})
    # 5. a stored site file changed (it is the published file too: they are hard links)
    page_of_second = json.loads(Cache(cache).load(pages[1].stem, "pages", ("files",))["files"])
    blob = next(cache.glob(f"files/*/{page_of_second[min(page_of_second)]}"))
    with blob.open("ab") as handle:
        handle.write(b"<!-- appended -->")
    result = site(*facts[:3], "-o", out, "--cache", cache)
    assert result.exit_code == 0, result.output
    assert counts(result) == (3, 0, 2, 1)
    assert tree(out) == expected
    # 6. an entry whose decision is not a decision document, and no pages to copy: evaluated again
    found = Cache(cache).load(evaluations[0].stem, "evaluation", ALL_SECTIONS)
    planted = {**json.loads(found["files"]), "twin": Cache(cache).put_file(b'{"format": 1}')}
    Cache(cache).store(evaluations[0].stem, "evaluation", {**found, "files": json.dumps(planted).encode()})
    for entry in _entries(cache, "pages"):
        entry.unlink()
    result = site(*facts[:3], "-o", out, "--cache", cache)
    assert result.exit_code == 0, result.output
    assert counts(result) == (0, 3, 3, 0)
    assert tree(out) == expected
    assert counts(site(*facts[:3], "-o", out, "--cache", cache)) == (0, 3, 0, 3)


def test_a_cache_others_can_write_is_refused(tmp_path, facts):
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(0o777)
    result = site(facts[0], "-o", tmp_path / "site", "--cache", cache)
    assert result.exit_code == 2
    assert "can be written by other users" in result.output and "--no-cache" in result.output
    assert not (tmp_path / "site").exists()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    result = site(facts[0], "-o", tmp_path / "site", "--cache", link)
    assert result.exit_code == 2 and "symbolic link" in result.output
    result = site(facts[0], "-o", tmp_path / "site", "--no-cache")
    assert result.exit_code == 0 and not list(tmp_path.glob(".infra-policy-cache"))


def test_keep_going_publishes_every_good_decision_and_lists_the_failures(tmp_path, facts, facts_file):
    bad = facts_file("ex:org a ip:Organization ; ip:dataSensitivity ip:Secretish .", name="bad.ttl")
    negative = facts_file("ex:org a ip:Organization ; ip:itStaffFTE -3 .", name="negative.ttl")
    out = tmp_path / "site"
    result = CliRunner().invoke(
        main, ["site", "--keep-going", "--jobs", "2", *map(str, facts), str(bad), str(negative), "-o", str(out)]
    )
    assert result.exit_code == 1, result.output
    assert "published 6 decisions" in result.output
    assert "bad.ttl" in result.output and "Secretish" in result.output and "negative.ttl" in result.output
    assert "2 of 8 inputs failed: bad.ttl, negative.ttl" in result.output
    assert "Traceback" not in result.output
    overview = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert sorted(e["source"] for e in overview) == sorted(p.name for p in facts)
    assert broken_links(out) == []
    # without it, the first failure stops the build and the site stays as it was
    before = tree(out)
    result = site(*facts, bad, "-o", out)
    assert result.exit_code == 2 and "bad.ttl" in result.output
    assert tree(out) == before


def test_progress_goes_to_a_terminal(tmp_path, facts):
    program = str(Path(sys.executable).parent / "infra-policy")
    child = pexpect.spawn(
        program,
        ["site", "--jobs", "1", *map(str, facts[:2]), "-o", str(tmp_path / "site")],
        encoding="utf-8",
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "[1/2] evaluate" in child.before and "[2/2] render" in child.before
    # not a terminal: no progress, only the summary
    result = site(*facts[:2], "-o", tmp_path / "other")
    assert "[1/2]" not in result.output


def _record(tmp_path: Path, facts_path: Path, records: Path, log: Path) -> Path:
    result = CliRunner().invoke(
        main,
        ["evaluate", str(facts_path), "--record", str(records), "--log", str(log), "-o", str(tmp_path / "out.txt")],
    )
    assert result.exit_code == 0, result.output
    return max(records.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)


@pytest.fixture
def history(tmp_path):
    """Three records of one organization (IT staff 4 → 0.5 → 0.5 with another sensitivity), and its facts now."""
    records, log = tmp_path / "records", tmp_path / "decisions.jsonl"
    source = (EXAMPLES / "acme-mixed-workloads.ttl").read_text(encoding="utf-8")
    path = tmp_path / "acme.ttl"
    path.write_text(source, encoding="utf-8")
    _record(tmp_path, path, records, log)
    path.write_text(source.replace("ip:itStaffFTE 4", "ip:itStaffFTE 0.5"), encoding="utf-8")
    _record(tmp_path, path, records, log)
    path.write_text(
        source.replace("ip:itStaffFTE 4", "ip:itStaffFTE 0.5").replace("ip:Confidential", "ip:Public"),
        encoding="utf-8",
    )
    _record(tmp_path, path, records, log)
    return path, records, log


def test_a_decision_evaluated_and_recorded_shows_once_marked_recorded(tmp_path, history):
    path, records, log = history
    out = tmp_path / "site"
    result = site(path, "--records", records, "--log", log, "-o", out)
    assert result.exit_code == 0, result.output
    overview = json.loads((out / "index.json").read_text(encoding="utf-8"))
    # three records, one of them the same decision as the facts file: three entries, not four
    assert len(overview) == 3
    evaluated = [e for e in overview if e["origin"] == "evaluated"]
    assert len(evaluated) == 1 and "recorded" in evaluated[0]
    record_copy = out / evaluated[0]["recorded"]["file"]
    assert json.loads(record_copy.read_text(encoding="utf-8"))["id"] == evaluated[0]["recorded"]["id"]
    page = (out / evaluated[0]["page"]).read_text(encoding="utf-8")
    assert "also recorded" in page and evaluated[0]["recorded"]["id"] in page
    row = (out / "index.html").read_text(encoding="utf-8")
    assert f'title="also recorded as {evaluated[0]["recorded"]["id"].removeprefix("sha256:")}.json"' in row
    assert broken_links(out) == []


def test_history_page_in_log_order_with_what_changed(tmp_path, history):
    _, records, log = history
    out = tmp_path / "site"
    assert site("--records", records, "--log", log, "-o", out).exit_code == 0
    (page_path,) = sorted((out / "history").glob("*.html"))
    page = Page(page_path.read_text(encoding="utf-8"))
    text = " ".join(" ".join(page.text).split())
    assert "History of Acme Insurance" in text and "in the order of the decision log (decisions.jsonl)" in text
    entries = [a for tag, a in page.tags if tag == "li" and a.get("class") == "history-entry"]
    assert len(entries) == 3
    assert text.count("What changed since the record before") == 2
    second, third = text.split("log entry 2")[1].split("log entry 3")
    assert "No stance changed" in second and "IT staff (FTE) 4 → 0.5" in second
    assert "With less than one person able to run servers" in second and "appeared" in second
    assert "Claims triage: in-house → hybrid" in third and "data sensitivity confidential → public" in third
    overview = (out / "index.html").read_text(encoding="utf-8")
    assert "history (3 records)" in overview
    assert broken_links(out) == []


def test_a_log_that_does_not_verify_is_refused(tmp_path, history):
    _, records, log = history
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text(lines[1] + lines[0] + "".join(lines[2:]), encoding="utf-8")
    result = site("--records", records, "--log", log, "-o", tmp_path / "site")
    assert result.exit_code == 2 and "does not verify" in result.output and "audit --log" in result.output


def test_factor_and_rule_pages_link_to_where_they_fired(tmp_path, facts):
    out = tmp_path / "site"
    assert site(*facts, "-o", out).exit_code == 0
    rules = json.loads((out / "rules.json").read_text(encoding="utf-8"))
    fired = [r for r in rules if r["fired_count"]]
    assert fired and all(len(r["fired"]) == min(r["fired_count"], 50) for r in rules)
    privacy = (out / "factors" / "privacy.html").read_text(encoding="utf-8")
    links = [a["href"] for tag, a in Page(privacy).tags if tag == "a" and a.get("href", "").startswith("../decisions/")]
    assert links and all("#n-" in href for href in links)
    assert broken_links(out) == []


def test_long_record_names_are_shortened_with_the_full_name_on_hover(tmp_path, history):
    _, records, _ = history
    out = tmp_path / "site"
    assert site("--records", records, "-o", out).exit_code == 0
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    titles = [a["title"] for tag, a in page.tags if tag == "span" and a.get("title", "").endswith(".json")]
    assert len(titles) == 3 and all(len(t) == 69 for t in titles)
    shown = " ".join(page.text)
    assert all(t not in shown for t in titles) and "…" in shown


def test_explain_shows_the_deciding_facts_and_smallest_changes_and_keeps_them_in_the_cache(tmp_path):
    acme = EXAMPLES / "acme-mixed-workloads.ttl"
    out, cache = tmp_path / "site", tmp_path / "cache"
    result = site(acme, "-o", out, "--cache", cache, "--explain")
    assert result.exit_code == 0, result.output
    (page_path,) = [p for p in (out / "decisions").glob("acme-*.html") if ".facts." not in p.name]
    text = " ".join(" ".join(Page(page_path.read_text(encoding="utf-8")).text).split())
    # the same sufficient reason and changes as `explain --sufficient` and `--flip cloud`
    sufficient = CliRunner().invoke(main, ["explain", str(acme), "--sufficient"]).output
    assert "These 8 of its 14 stated facts decide it" in sufficient
    assert "These 8 facts decide it; the other 6 do not matter: capital budget (USD): 400,000" in text
    flips = CliRunner().invoke(main, ["explain", str(acme), "--flip", "cloud"]).output
    assert "state the model availability as hosted only" in flips
    assert "To make it cloud state the model availability as hosted only" in text
    assert counts(site(acme, "-o", out, "--cache", cache, "--explain")) == (0, 1, 0, 1)
    # without --explain: other entries, and no such section
    plain = site(acme, "-o", out, "--cache", cache)
    assert counts(plain)[:2] == (1, 0)
    assert "What decides it" not in page_path.read_text(encoding="utf-8")


def test_what_no_build_used_for_the_unused_period_is_removed_after_a_build(tmp_path, facts):
    from infra_policy.site.cache import UNUSED_DAYS

    out, cache = tmp_path / "site", tmp_path / "cache"
    first, second = facts[0], facts[1]
    assert counts(site(first, "-o", out, "--cache", cache)) == (1, 0, 1, 0)
    assert counts(site(second, "-o", out, "--cache", cache)) == (1, 0, 1, 0)
    assert counts(site(first, "-o", out, "--cache", cache))[1] == 1  # kept: used recently
    # everything in the cache was last used long ago; the next build renews what it uses, then prunes
    old = time.time() - (UNUSED_DAYS + 1) * 86400
    for path in cache.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    pruning = site(second, "-o", out, "--cache", cache)
    assert counts(pruning) == (0, 1, 0, 1), pruning.output  # its own entries are still used
    assert re.search(r"removed \d+ cache files? unused for", pruning.output), pruning.output
    assert all(p.stat().st_mtime > old for p in cache.rglob("*") if p.is_file())  # only recent ones remain
    assert counts(site(first, "-o", out, "--cache", cache))[:2] == (1, 0)  # the first file's entry went
    assert counts(site(second, "-o", out, "--cache", cache))[:2] == (0, 1)


def test_an_evaluation_keeps_its_twins_once_they_are_the_files_its_page_publishes(tmp_path, facts):
    out, cache = tmp_path / "site", tmp_path / "cache"
    assert counts(site(*facts[:3], "-o", out, "--cache", cache)) == (3, 0, 3, 0)
    published = {p.read_bytes(): p for p in (out / "decisions").iterdir() if p.suffix in (".json", ".ttl", ".jsonld")}
    entries = _entries(cache, "evaluation")
    assert len(entries) == 3
    for entry in entries:
        found = Cache(cache).load(entry.stem, "evaluation", ("files",))
        assert found is not None
        named = json.loads(found["files"])
        assert set(named) == {"twin", "turtle", "jsonld"}
        for digest in named.values():
            data = Cache(cache).get_file(digest)
            assert data is not None and data in published, entry.name
            # one file: the site's file is the cache's, linked (no second copy of a twin in the entry)
            assert os.path.samefile(published[data], next(cache.glob(f"files/*/{digest}")))
            assert data not in entry.read_bytes()
