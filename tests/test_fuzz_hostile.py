"""Fuzz tests of the hostile-input classes of issue 16: deep lists, huge numbers, special files,
hostile knowledge-base ids and sealed malformed records.

Each case goes through real components (rdflib, the digest, the bounded reader, the site path
builder, the real CLI); ``bench/fuzz.py`` runs 10,000 of each.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import stat
import tempfile
from pathlib import Path

import pytest
from conftest import EXAMPLES
from conftest import invoke_cli as run
from fuzzing import FUZZ_SETTINGS, check_cli_verdict, hang_guard
from hypothesis import given
from hypothesis import strategies as st

from infra_policy.engine.files import OutputError
from infra_policy.engine.records.digest import graph_digest
from infra_policy.site.anchors import factor_page
from infra_policy.site.publish import site_path

PREFIXES = "@prefix ip: <https://w3id.org/infra-policy#> .\n@prefix ex: <https://example.com/acme/> .\n"
ORGANIZATION = 'ex:acme a ip:Organization ; ip:name "Acme" ; ip:hasWorkload ex:chat .\n'
WORKLOAD = 'ex:chat a ip:Workload ; ip:name "Chat" ; ip:{property} {value} .\n'


def _nested_list(sizes: list[int]) -> str:
    """A Turtle list of lists: one level per size."""
    text = '"leaf"'
    for size in sizes:
        text = "( " + " ".join([text] + [f'"{i}"' for i in range(size)]) + " )"
    return text


@FUZZ_SETTINGS
@given(sizes=st.lists(st.integers(0, 3000), min_size=1, max_size=4))
def test_deep_and_long_lists_are_digested_the_same_whatever_the_order(sizes):
    from rdflib import Graph

    text = PREFIXES + f"ex:acme ex:items {_nested_list(sizes)} .\n"
    graph = Graph().parse(data=text, format="turtle")
    shuffled = Graph()
    for triple in sorted(graph, key=lambda t: hash(t)):  # another insertion order
        shuffled.add(triple)
    again = Graph().parse(data=text, format="turtle")
    assert graph_digest(graph) == graph_digest(again) == graph_digest(shuffled)


huge_numbers = st.one_of(
    st.integers(10**15, 10**400).map(str),
    st.integers(1, 6000).map(lambda digits: "1" + "0" * digits),
    st.sampled_from(["1e400", "-1e400", "1.0e308", "INF", "NaN", "0.00000000000000000001"]),
)


@FUZZ_SETTINGS
@given(
    number=huge_numbers,
    prop=st.sampled_from(["itStaffFTE", "capitalBudgetUSD", "cloudCostPerHourUSD", "inHouseHardwareUSD"]),
    fmt=st.sampled_from([".ttl", ".jsonld"]),
)
def test_huge_numbers_give_a_decision_or_a_clear_error(number, prop, fmt):
    with tempfile.TemporaryDirectory() as here:
        facts = Path(here, f"facts{fmt}")
        if fmt == ".ttl":
            value = f'"{number}"^^<http://www.w3.org/2001/XMLSchema#double>' if number[-1].isalpha() else number
            facts.write_text(PREFIXES + ORGANIZATION + WORKLOAD.format(property=prop, value=value))
        else:
            literal = number if number.lstrip("-").replace(".", "").replace("e", "").isdigit() else f'"{number}"'
            facts.write_text(
                '{"@context": {"ip": "https://w3id.org/infra-policy#"}, "@graph": ['
                '{"@id": "https://example.com/acme/acme", "@type": "ip:Organization", "ip:name": "Acme", '
                '"ip:hasWorkload": {"@id": "https://example.com/acme/chat"}}, '
                '{"@id": "https://example.com/acme/chat", "@type": "ip:Workload", "ip:name": "Chat", '
                f'"ip:{prop}": {literal}}}]}}'
            )
        with hang_guard(f"{prop} = {number[:40]}"):
            result = run("evaluate", facts)
        check_cli_verdict(result.exit_code, result.output, f"{prop} = {number[:60]} in {fmt}")


def _special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # like /dev/zero
    elif kind == "zero-link":
        path.symlink_to("/dev/zero")
    elif kind == "dangling-link":
        path.symlink_to(path.parent / "nowhere")
    elif kind == "loop-link":
        path.symlink_to(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "socket":
        with socket.socket(socket.AF_UNIX) as bound:
            bound.bind(str(path))
    elif kind == "sparse-huge":  # a regular file of 3 GB that takes no space: only a bounded read survives it
        with open(path, "wb") as file:
            file.truncate(3 << 30)


SPECIAL_KINDS = ["fifo", "zero-link", "dangling-link", "loop-link", "directory", "socket", "sparse-huge"] + (
    ["device"] if os.geteuid() == 0 else []
)

# every file or folder the CLI reads or writes, as (where the special file goes, the command)
ROLES: dict[str, tuple[str, object]] = {
    "facts": ("{name}.ttl", lambda s, c: ["evaluate", s]),
    "validated facts": ("{name}.ttl", lambda s, c: ["validate", s]),
    "explained facts": ("{name}.ttl", lambda s, c: ["explain", s]),
    "compared facts": ("{name}.ttl", lambda s, c: ["diff", c["startup"], s]),
    "facts in a batch folder": (
        "batch/{name}.ttl",
        lambda s, c: ["evaluate", s.parent, "--format", "json", "-o", c["root"] / "out.jsonl"],
    ),
    "output": ("{name}.json", lambda s, c: ["evaluate", c["startup"], "-o", s]),
    "record folder": ("{name}", lambda s, c: ["evaluate", c["startup"], "--record", s]),
    "log": ("{name}.jsonl", lambda s, c: ["evaluate", c["startup"], "--log", s]),
    "rule file": ("rules/{name}.yaml", lambda s, c: ["rules", "list", "--rules", s.parent]),
    "kb file": ("kb/claims.ttl", lambda s, c: ["evaluate", c["startup"], "--kb", s.parent]),
    "overlay": ("{name}.yaml", lambda s, c: ["evaluate", c["startup"], "--overlay", s]),
    "policy test": ("{name}.yaml", lambda s, c: ["test", s]),
    "record": ("{name}.json", lambda s, c: ["audit", s]),
    "audited facts": ("{name}.ttl", lambda s, c: ["audit", c["record"], "--facts", s]),
    "audited log": ("{name}.jsonl", lambda s, c: ["audit", "--log", s]),
    "trusted key": ("{name}.pub", lambda s, c: ["audit", c["record"], "--trust", s]),
    "signing key": ("{name}.key", lambda s, c: ["evaluate", c["startup"], "--record", c["root"] / "out", "--sign", s]),
    "new key": ("{name}.key", lambda s, c: ["keys", "generate", s]),
    "site records": ("records/{name}.json", lambda s, c: ["site", "--records", s.parent, "-o", c["root"] / "site"]),
    "site folder": ("{name}", lambda s, c: ["site", c["startup"], "-o", s]),
}
WRITTEN = {"output", "record folder", "log", "new key", "site folder"}
# the combinations that are fine: a folder where a folder is wanted (or skipped in a batch folder), and a
# large regular file replaced by an output; every other special file is refused (exit 2)
ACCEPTED = {
    ("directory", "facts in a batch folder"),
    ("directory", "record folder"),
    ("directory", "site folder"),
    ("sparse-huge", "output"),
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recorded")
    assert run("evaluate", EXAMPLES / "startup-cloud.ttl", "--record", folder).exit_code == 0
    (record,) = folder.glob("*.json")
    return record


@FUZZ_SETTINGS
@given(
    kind=st.sampled_from(SPECIAL_KINDS),
    role=st.sampled_from(sorted(ROLES)),
    through_link=st.booleans(),
    name=st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12),
)
def test_special_files_in_every_role_are_refused_without_hanging(recorded, kind, role, through_link, name):
    import shutil

    from infra_policy.engine.paths import PACKAGED_KB, PACKAGED_RULES

    where, command = ROLES[role]
    with tempfile.TemporaryDirectory() as here:
        root = Path(here)
        case = root / "case"
        special = case / where.format(name=name)
        special.parent.mkdir(parents=True)
        if role == "rule file":
            shutil.copytree(PACKAGED_RULES, special.parent, dirs_exist_ok=True)
        elif role == "kb file":
            shutil.copytree(PACKAGED_KB, special.parent, dirs_exist_ok=True)
            special.unlink()
        elif role == "facts in a batch folder":
            shutil.copy(EXAMPLES / "startup-cloud.ttl", special.parent / "good.ttl")
        if through_link:  # reached through a symbolic link to the special file
            target = special.parent / f"target-{special.name}"
            _special(target, kind)
            special.symlink_to(target)
        else:
            _special(special, kind)
        before = os.lstat(special)
        context = {"root": root, "startup": EXAMPLES / "startup-cloud.ttl", "record": recorded}
        what = f"{kind}{' through a link' if through_link else ''} as {role} ({special.name})"
        with hang_guard(what):
            result = run(*command(special, context))
        check_cli_verdict(result.exit_code, result.output, what)
        # an output file and the site's folder are replaced as a whole, so -o never follows a link
        accepted = (kind, role) in ACCEPTED and not (through_link and role in ("output", "site folder"))
        assert result.exit_code == (0 if accepted else 2), f"{what}: {result.output}"
        if role in WRITTEN and not accepted:
            after = os.lstat(special)
            assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode), f"{what}: the special file was replaced"
        debris = [p.name for p in case.rglob("*") if ".building-" in p.name or p.name.endswith(".tmp")]
        assert not debris, f"{what}: left {debris}"


@FUZZ_SETTINGS
@given(identifier=st.text(min_size=0, max_size=80))
def test_hostile_kb_ids_give_site_paths_inside_the_site(identifier):
    with tempfile.TemporaryDirectory() as here:
        staging = Path(here, "staging")
        staging.mkdir()
        page = factor_page(identifier)
        target = site_path(staging, page)
        assert target.resolve().is_relative_to(staging.resolve())
        assert target.parent == staging / "factors"
        # the raw id as a path: refused, or (plain names only) still inside the staging folder
        try:
            raw = site_path(staging, f"factors/{identifier}.html")
        except OutputError:
            pass
        else:
            assert raw.resolve().is_relative_to(staging.resolve()), identifier


@pytest.fixture(scope="module")
def sealed_record(tmp_path_factory):
    folder = tmp_path_factory.mktemp("records")
    assert run("evaluate", EXAMPLES / "acme-mixed-workloads.ttl", "--record", folder).exit_code == 0
    (path,) = folder.glob("*.json")
    return json.loads(path.read_text())


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, (*prefix, index))


REPLACEMENTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.text(max_size=10),
    st.just([]),
    st.just({}),
    st.just([{"id": 1}]),
)


@FUZZ_SETTINGS
@given(data=st.data())
def test_sealed_malformed_records_are_audited_and_published_or_refused(sealed_record, data):
    from infra_policy.engine.records.record import seal

    record = copy.deepcopy(sealed_record)
    body = {k: v for k, v in record.items() if k != "id"}
    paths = [p for p in _paths(body) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        target = body
        try:
            for step in path[:-1]:
                target = target[step]
            if data.draw(st.booleans()) and isinstance(target, dict):
                target.pop(path[-1], None)
            else:
                target[path[-1]] = data.draw(REPLACEMENTS)
        except (KeyError, IndexError, TypeError):
            continue
    sealed = seal(body)
    with tempfile.TemporaryDirectory() as here:
        folder = Path(here, "records")
        folder.mkdir()
        file = folder / (sealed["id"].removeprefix("sha256:") + ".json")
        file.write_text(json.dumps(sealed))
        audited = run("audit", file)
        assert audited.exit_code in (0, 1, 2) and "Traceback" not in audited.output, audited.output
        assert "internal error" not in audited.output, audited.output
        published = run("site", "--records", folder, "-o", Path(here, "site"))
        check_cli_verdict(published.exit_code, published.output, f"malformed record {file.name}")
