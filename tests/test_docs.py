"""The README stays true: its commands, its vocabulary table, its examples."""

from __future__ import annotations

import re

from conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", README, flags=re.S)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    first, second = _commands()[:2]
    assert README.index(first) < README.index("## A short tour")
    assert "infra-policy evaluate examples/" in first
    example = re.search(r"examples/\S+\.ttl", first).group(0)
    assert (REPO / example).is_file()
    assert "pytest" in second and "[test]" in second
    ci = (REPO / ".ci" / "run").read_text()
    assert second in ci
    assert "set -euo pipefail" in ci


def test_every_vocabulary_property_is_documented_in_the_readme(kb):
    for name in kb.vocabulary.properties:
        assert f"`ip:{name}`" in README, f"ip:{name} is missing from the README's vocabulary table"
    for prop in kb.vocabulary.properties.values():
        for value in prop.values:
            assert f"`ip:{value}`" in README, f"ip:{value} is missing from the README"


def test_the_rule_quoted_in_the_readme_is_the_real_one(policy):
    quoted = re.search(r"- id: (\S+)\n    title: (.+)\n", README)
    rule = policy.by_id[quoted.group(1)]
    assert rule.title == quoted.group(2)


def _tracked_text_files():
    import subprocess

    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for name in names:
        path = REPO / name
        if path.is_file():
            try:
                yield name, path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue


def test_no_file_cites_a_design_note_outside_the_repository():
    outside = re.compile(r"DESIGN(\.md)? ?§|DESIGN\.md|shared/(notes|seed)|\.\./shared")
    cited = [name for name, text in _tracked_text_files() if outside.search(text)]
    assert cited == []


def test_sections_of_the_design_document_that_are_cited_exist():
    headings = set(re.findall(r"^## (.+)$", (REPO / "docs" / "design.md").read_text(encoding="utf-8"), flags=re.M))
    missing = []
    for name, text in _tracked_text_files():
        for section in re.findall(r'docs/design\.md\)?, "?([A-Z][A-Za-z ]+?)(?:"|\)|:|,|\.|$)', text, flags=re.M):
            if section.strip() not in headings:
                missing.append((name, section))
    assert missing == []
