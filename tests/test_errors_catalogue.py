"""The error catalogue: every error infra-policy gives, run through the real CLI.

``docs/errors.md`` is generated from :data:`CASES` — each an input, a command
and the exit status it must end with — so the catalogue cannot drift from what
the tool prints.  After an intended change of a message, regenerate it with::

    UPDATE_ERRORS_DOC=1 python -m pytest tests/test_errors_catalogue.py

and review the diff.  Every case is also a test of its own: the exit status,
a fragment the message must contain, and no traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from catalogue_overlays import overlay_cases
from click.testing import CliRunner
from conftest import REPO
from test_errors_engine import action_failure_output

from infra_policy.cli.main import main
from infra_policy.engine.paths import PACKAGED_KB, PACKAGED_RULES, rules_schema
from infra_policy.engine.policy.rulelimits import limits
from infra_policy.engine.policy.ruleload import MAX_RULE_FILE_BYTES
from infra_policy.engine.records.record import RECORD_FORMAT, seal
from infra_policy.engine.stages.inputs import DEFAULT_LIMITS

RULE_LIMITS = limits()
# sealed (its digest holds) but a node id is a list: what an attacker who re-seals an edit can write
MALFORMED_RECORD = seal(
    {
        "format": RECORD_FORMAT,
        "decision": {
            "format": "infra-policy/decision@1",
            "organization": {"name": "Acme"},
            "workloads": [{"name": "Chat"}],
            "justification": {"nodes": [{"id": "urn:x", "kind": ["not", "a", "kind"]}], "edges": []},
        },
    }
)

DOC = REPO / "docs" / "errors.md"


@dataclass(frozen=True)
class Packaged:
    """A file copied from the packaged kb/ or rules/ (not shown in the catalogue)."""

    source: Path


DIRECTORY = object()  # marker: create an empty directory at this name
FIFO = object()  # marker: create a named pipe (FIFO) at this name
SHARED_DIRECTORY = object()  # marker: create a directory anyone can write to (mode 0777)


@dataclass(frozen=True)
class Link:
    """A symbolic link to ``target``."""

    target: str


RULES = {f"rules/{name}": Packaged(PACKAGED_RULES / name) for name in ("stance.yaml", "organization.yaml")}
KB = {f"kb/{p.name}": Packaged(p) for p in sorted(PACKAGED_KB.glob("*.ttl"))}

PREFIXES = "@prefix ip: <https://w3id.org/infra-policy#> .\n@prefix ex: <https://example.com/acme/> .\n"


def ttl(body: str) -> str:
    return PREFIXES + textwrap.dedent(body)


GOOD_FACTS = ttl("""\
    ex:acme a ip:Organization ; ip:name "Acme" ; ip:hasWorkload ex:chat .
    ex:chat a ip:Workload ; ip:name "Chat" ; ip:dataSensitivity ip:Internal .
""")


def rule_file(rules: str, header: str = "ruleset: latency\nkind: factor\nfactor: latency\n") -> str:
    return header + "rules:\n" + textwrap.indent(textwrap.dedent(rules), "  ")


GOOD_RULE = """\
- id: latency.tight
  title: A tight latency budget favors in-house servers.
  when: {fact: latencyBudgetMs, less_than: 50}
  then: {assess: {favors: in-house, weight: 2}}
  rationale: Requests that must return quickly gain from short network paths.
  claims: [claim:inhouse-pro-low-latency]
"""


@dataclass(frozen=True)
class Case:
    id: str
    section: str
    title: str
    args: tuple[str, ...]
    exit: int
    expect: str  # a fragment the message must contain
    files: dict[str, object] = field(default_factory=dict)
    note: str = ""


def facts_case(id: str, title: str, content: str | bytes, expect: str, name: str = "facts.ttl", **kw) -> Case:
    args = kw.pop("args", ("evaluate", name))
    return Case(id, "Facts files", title, tuple(args), kw.pop("exit", 2), expect, {name: content}, **kw)


def rules_case(id: str, title: str, files: dict[str, object], expect: str, **kw) -> Case:
    return Case(id, "Rule files", title, ("rules", "list", "--rules", "rules"), 2, expect, files, **kw)


def kb_case(id: str, title: str, files: dict[str, object], expect: str) -> Case:
    files = {"facts.ttl": GOOD_FACTS, **files}
    return Case(id, "Knowledge base (--kb)", title, ("validate", "facts.ttl", "--kb", "kb"), 2, expect, files)


XXE = """\
<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:ip="https://w3id.org/infra-policy#">
  <ip:Organization rdf:about="https://example.com/acme/acme"><ip:name>&secret;</ip:name></ip:Organization>
</rdf:RDF>
"""

CASES: list[Case] = [
    # --- reading a facts file --------------------------------------------------
    facts_case("missing-file", "The file does not exist", "", "no such file", args=("evaluate", "fatcs.ttl")),
    facts_case(
        "directory",
        "A directory without facts files (a directory is evaluated as a batch of its facts files)",
        DIRECTORY,
        "a directory without facts files",
        name="examples",
    ),
    facts_case("unknown-extension", "An extension that names no RDF format", GOOD_FACTS, "Allowed extensions", "f.txt"),
    Case(
        "link-to-other-extension",
        "Facts files",
        "A facts name that links to a file of another kind (whose lines are never quoted)",
        ("evaluate", "facts.ttl"),
        2,
        "is a link to notes.txt",
        {"notes.txt": "api-key: not-for-your-logs\n", "facts.ttl": Link("notes.txt")},
    ),
    facts_case("empty-file", "An empty file", "", "the file is empty"),
    facts_case("no-statements", "Only prefixes and comments", PREFIXES + "# TODO\n", "contains no RDF statements"),
    facts_case("binary-file", "A binary file", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    facts_case(
        "not-utf8",
        "Text that is not UTF-8",
        ttl('ex:acme a ip:Organization ; ip:name "Caf\xe9" .\n').encode("latin-1"),
        "not valid UTF-8",
    ),
    facts_case(
        "too-many-bytes",
        f"A file larger than --max-bytes (default {DEFAULT_LIMITS.max_bytes:,})",
        GOOD_FACTS,
        "more than the limit of 100 bytes",
        args=("evaluate", "facts.ttl", "--max-bytes", "100"),
    ),
    facts_case(
        "too-many-triples",
        f"More triples than --max-triples (default {DEFAULT_LIMITS.max_triples:,})",
        GOOD_FACTS,
        "more than 3 triples",
        args=("evaluate", "facts.ttl", "--max-triples", "3"),
    ),
    facts_case(
        "unknown-cloud-safeguard",
        "A cloud safeguard the vocabulary does not have",
        ttl("ex:acme a ip:Organization ; ip:cloudSafeguard ip:ZeroRetention .\n"),
        "ip:cloudSafeguard has the value ip:ZeroRetention",
    ),
    facts_case(
        "literal-model-availability",
        "A literal where the model availability takes an IRI",
        ttl('ex:acme a ip:Organization ; ip:modelAvailability "hosted" .\n'),
        "ip:modelAvailability has the literal",
    ),
    facts_case(
        "must-stay-not-boolean",
        "dataMustStayOnPremises that is not true or false",
        ttl('ex:acme a ip:Organization ; ip:dataMustStayOnPremises "yes" .\n'),
        "ip:dataMustStayOnPremises",
    ),
    # --- syntax ------------------------------------------------------------------
    facts_case(
        "turtle-syntax",
        "A Turtle syntax error: line, column and the offending line",
        ttl("""\
            ex:acme a ip:Organization ;
              ip:name "Acme"
              ip:itStaffFTE 4 .
        """),
        "line 5, column",
    ),
    facts_case(
        "undeclared-prefix",
        "A prefix that is not declared",
        ttl('ex:acme a ip:Organization ; dct:title "Acme" .\n'),
        "not valid Turtle",
    ),
    facts_case(
        "ntriples-syntax",
        "An N-Triples syntax error",
        "<https://example.com/acme/acme> <https://w3id.org/infra-policy#name> Acme .\n",
        "not valid N-Triples",
        name="facts.nt",
    ),
    facts_case(
        "nquads-syntax",
        "An N-Quads syntax error: the line found by reading the file line by line",
        '<https://example.com/acme/acme> <https://w3id.org/infra-policy#name> "Acme" <https://example.com/g> .\n'
        "<https://example.com/acme/acme> <https://w3id.org/infra-policy#name> Acme <https://example.com/g> .\n",
        "facts.nq, line 2: not valid N-Quads",
        name="facts.nq",
    ),
    facts_case(
        "json-syntax",
        "JSON-LD that is not JSON",
        '{"@id": "https://example.com/acme/acme",}\n',
        "not valid JSON",
        name="facts.jsonld",
    ),
    facts_case(
        "jsonld-wrong-kind",
        "JSON-LD whose keywords have values of the wrong kind",
        '{"@context": 5, "@id": "https://example.com/acme/acme"}\n',
        "a keyword has a value of the wrong kind",
        name="facts.jsonld",
    ),
    facts_case(
        "jsonld-no-statements",
        "JSON-LD that gives no statements (keys not mapped to IRIs)",
        '{"@id": "https://example.com/acme/acme", "name": "Acme"}\n',
        "the JSON-LD document gives no RDF statements",
        name="facts.jsonld",
    ),
    facts_case(
        "jsonld-remote-context",
        "JSON-LD with a remote context (never fetched)",
        '{"@context": "https://schema.org/", "@id": "https://example.com/acme/acme", "name": "Acme"}\n',
        "never fetches anything",
        name="facts.jsonld",
    ),
    facts_case(
        "rdfxml-doctype",
        "RDF/XML with a DTD or entities (an XXE attempt): refused, nothing is read or fetched",
        XXE,
        "refuses DTDs and entities",
        name="facts.rdf",
    ),
    facts_case(
        "rdfxml-syntax",
        "An RDF/XML syntax error",
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n  <rdf:Description>\n</rdf:RDF>\n',
        "not valid RDF/XML",
        name="facts.rdf",
    ),
    facts_case(
        "input-format-overrides",
        "--input-format wins over the extension (here: Turtle read as N-Triples)",
        GOOD_FACTS,
        "not valid N-Triples",
        args=("evaluate", "facts.ttl", "--input-format", "n-triples"),
    ),
    # --- vocabulary and values ----------------------------------------------------
    facts_case(
        "unknown-property",
        "An unknown ip: property, with the closest known one",
        ttl("ex:acme a ip:Organization ; ip:dataSensitivty ip:Public .\n"),
        "Did you mean ip:dataSensitivity?",
    ),
    facts_case(
        "value-not-allowed",
        "A value outside the allowed list, with a suggestion",
        ttl("ex:acme a ip:Organization ; ip:dataSensitivity ip:Confidental .\n"),
        "Did you mean ip:Confidential?",
    ),
    facts_case(
        "literal-for-iri",
        "Text where a vocabulary value is expected",
        ttl('ex:acme a ip:Organization ; ip:connectivity "reliable" .\n'),
        "but it takes an IRI",
    ),
    facts_case(
        "wrong-datatype",
        "Text where a number is expected",
        ttl('ex:acme a ip:Organization ; ip:latencyBudgetMs "fast" .\n'),
        "expected an integer > 0",
    ),
    facts_case(
        "out-of-range",
        "A number out of range",
        ttl("ex:acme a ip:Organization ; ip:itStaffFTE -2 .\n"),
        "expected a number ≥ 0",
    ),
    facts_case(
        "number-not-comparable",
        "A number too large, too small or infinite for the rule engine",
        ttl("ex:acme a ip:Organization ; ip:gpuHoursPerMonth 1e400 ; ip:itStaffFTE 0.000001 .\n"),
        "cannot compare: a number must be finite",
    ),
    facts_case(
        "ill-typed-literal",
        "A literal that is not valid for its datatype (shown as written)",
        ttl('ex:acme a ip:Organization ; ip:hasDataCenter "maybe"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n'),
        '"maybe"^^xsd:boolean',
    ),
    facts_case(
        "contradictory-values",
        "Two different values for a single-valued property: both, with their lines",
        ttl("""\
            ex:acme a ip:Organization ;
              ip:connectivity ip:Reliable ;
              ip:hasDataCenter true ;
              ip:connectivity ip:AirGapped .
        """),
        "ip:Reliable on line 4, ip:AirGapped on line 6",
    ),
    facts_case(
        "same-number-twice",
        "One number written two ways for a single-valued property",
        ttl("""\
            ex:acme a ip:Organization ;
              ip:itStaffFTE 4 ;
              ip:itStaffFTE 4.0 .
        """),
        "the same value written in different ways (4 on line 4, 4.0 on line 5)",
    ),
    facts_case(
        "workload-not-declared",
        "ip:hasWorkload pointing to something that is not a workload",
        ttl("ex:acme a ip:Organization ; ip:hasWorkload ex:chat .\n"),
        "not declared as an ip:Workload",
    ),
    facts_case(
        "blank-node-workload",
        "A workload without an IRI (a blank node)",
        ttl('ex:acme a ip:Organization ; ip:hasWorkload [ a ip:Workload ; ip:name "Chat" ] .\n'),
        "points to a blank node",
    ),
    facts_case(
        "workload-with-workloads",
        "A workload that has workloads",
        ttl("""\
            ex:acme a ip:Organization ; ip:hasWorkload ex:chat .
            ex:chat a ip:Workload ; ip:hasWorkload ex:chat .
        """),
        "only the organization may have workloads",
    ),
    # --- structure -------------------------------------------------------------------
    facts_case(
        "no-organization",
        "No organization",
        ttl('ex:chat a ip:Workload ; ip:name "Chat" .\n'),
        "no organization found",
    ),
    facts_case(
        "two-organizations",
        "Two organizations in one file (refused: one file, one organization, one decision)",
        ttl("ex:acme a ip:Organization .\nex:globex a ip:Organization .\n"),
        "2 organizations found",
    ),
    facts_case(
        "workload-not-linked",
        "A workload not linked to the organization",
        ttl("ex:acme a ip:Organization .\nex:chat a ip:Workload ; ip:dataSensitivity ip:Public .\n"),
        "is not linked to the organization ex:acme",
    ),
    facts_case(
        "untyped-subject",
        "A subject with ip: properties but no type",
        ttl(
            "ex:acme a ip:Organization ; ip:hasWorkload ex:chat .\n"
            "ex:chat a ip:Workload .\n"
            "ex:bot ip:latencyBudgetMs 200 .\n"
        ),
        "neither an ip:Organization nor an ip:Workload",
    ),
    facts_case(
        "several-problems",
        "Several problems in one file: all reported, in file order",
        ttl("""\
            ex:acme a ip:Organization ;
              ip:conectivity ip:Reliable ;
              ip:itStaffFTE "four" ;
              ip:hasWorkload ex:chat .
            ex:chat a ip:Workload ; ip:dataSensitivity ip:Secret .
            ex:ops a ip:Workload .
        """),
        "4 problems in the facts",
    ),
    facts_case(
        "validate-too",
        "validate reports the same problems as evaluate",
        ttl("ex:acme a ip:Organization ; ip:workforce ip:Remote .\n"),
        "ip:workforce has the value ip:Remote",
        args=("validate", "facts.ttl"),
    ),
    # --- what-if: the changes of --set -------------------------------------------------
    Case(
        "what-if-shape",
        "What-if and assumed facts (--set)",
        "A change that is not property=value",
        ("what-if", "facts.ttl", "--set", "itStaffFTE"),
        2,
        "write property=value",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "what-if-property",
        "What-if and assumed facts (--set)",
        "A property the facts vocabulary does not have",
        ("what-if", "facts.ttl", "--set", "itStafFTE=2"),
        2,
        "Did you mean itStaffFTE?",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "what-if-workload",
        "What-if and assumed facts (--set)",
        "A workload the facts do not have",
        ("what-if", "facts.ttl", "--set", "Chatbot.itStaffFTE=2"),
        2,
        "there is no workload 'Chatbot'",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "what-if-value",
        "What-if and assumed facts (--set)",
        "A value the property does not allow (the facts file's message)",
        ("what-if", "facts.ttl", "--set", "Chat.dataSensitivity=Secret"),
        2,
        "ip:Secret",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "evaluate-set-property",
        "What-if and assumed facts (--set)",
        "`evaluate --set`: a property the facts vocabulary does not have (the same message as `what-if`)",
        ("evaluate", "facts.ttl", "--set", "dataSensitivty=Public"),
        2,
        "Did you mean dataSensitivity?",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "evaluate-set-workload",
        "What-if and assumed facts (--set)",
        "`explain --set`: a workload the facts do not have",
        ("explain", "facts.ttl", "--set", "Chatbot.itStaffFTE=2"),
        2,
        "there is no workload 'Chatbot'",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "evaluate-set-value",
        "What-if and assumed facts (--set)",
        "`evaluate --set`: a value the property does not allow (the facts file's message, on no line)",
        ("evaluate", "facts.ttl", "--set", "itStaffFTE=lots"),
        2,
        'assumed with --set: ex:acme ("Acme"): ip:itStaffFTE has the value "lots", which is not allowed',
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "evaluate-set-batch",
        "What-if and assumed facts (--set)",
        "`evaluate --set` with several facts files",
        ("evaluate", "facts.ttl", "other.ttl", "--set", "itStaffFTE=2"),
        2,
        "give one FACTS file",
        {"facts.ttl": GOOD_FACTS, "other.ttl": GOOD_FACTS},
    ),
    # --- diff -------------------------------------------------------------------------------
    Case(
        "diff-not-a-decision",
        "Diff",
        "A JSON file that is neither a decision nor a record",
        ("diff", "other.json", "facts.ttl"),
        2,
        "is neither a decision",
        {"other.json": '{"format": "something/else"}\n', "facts.ttl": GOOD_FACTS},
    ),
    Case(
        "diff-missing",
        "Diff",
        "A decision file that does not exist",
        ("diff", "gone.json", "facts.ttl"),
        2,
        "no such decision or decision record",
        {"facts.ttl": GOOD_FACTS},
    ),
    # --- namespace near-misses: warnings, errors with --strict ---------------------------
    Case(
        "near-miss-property",
        "Warnings (errors with --strict)",
        "A vocabulary property in another namespace (ignored, so a warning)",
        ("validate", "facts.ttl"),
        0,
        "Did you mean ip:dataSensitivity?",
        {
            "facts.ttl": ttl("""\
                ex:acme a ip:Organization ; ip:name "Acme" ; ip:hasWorkload ex:chat .
                ex:chat a ip:Workload ; ip:name "Chat" ; ex:dataSensitivity ip:Confidential .
            """)
        },
    ),
    Case(
        "near-miss-strict",
        "Warnings (errors with --strict)",
        "The same with --strict: an error, nothing evaluated",
        ("evaluate", "facts.ttl", "--strict"),
        2,
        "an error because of --strict",
        {
            "facts.ttl": ttl("""\
                ex:acme a ip:Organization ; ip:name "Acme" ; ip:hasWorkload ex:chat .
                ex:chat a ip:Workload ; ip:name "Chat" ; ex:dataSensitivity ip:Confidential .
            """)
        },
    ),
    Case(
        "near-miss-value",
        "Warnings (errors with --strict)",
        "A value in another namespace for a property that allows any IRI",
        ("validate", "facts.ttl", "--strict"),
        2,
        "Did you mean ip:GDPR?",
        {
            "facts.ttl": ttl("""\
                ex:acme a ip:Organization ; ip:name "Acme" ; ip:hasWorkload ex:chat .
                ex:chat a ip:Workload ; ip:name "Chat" ; ip:regulatedBy ex:GDPR .
            """)
        },
    ),
    Case(
        "near-miss-namespace",
        "Warnings (errors with --strict)",
        "A prefix IRI one character away from the infra-policy namespace",
        ("validate", "facts.ttl"),
        2,
        "one character away from the infra-policy namespace",
        {
            "facts.ttl": "@prefix ip: <https://w3id.org/infra-policy/> .\n@prefix ex: <https://example.com/acme/> .\n"
            'ex:acme a ip:Organization ; ip:name "Acme" .\n'
        },
    ),
    # --- init: answers files ------------------------------------------------------------
    Case(
        "init-answers-problems",
        "infra-policy init",
        "An answers file with an unknown question and answers that are not allowed (all reported, nothing written)",
        ("init", "--answers", "answers.yaml"),
        2,
        "Did you mean hasDataCenter?",
        {
            "answers.yaml": "organization:\n  name: Northwind\n  hasDataCentre: yes\n  itStaffFTE: -2\n"
            "  hasSecondarySite: maybe\n"
            "workloads:\n  - name: Chatbot\n    usersLocation: Mars\n    regulatedBy: [GDPR, Basel]\n"
        },
    ),
    Case(
        "init-answers-not-a-mapping",
        "infra-policy init",
        "An answers file that is not a mapping",
        ("init", "--answers", "answers.yaml"),
        2,
        "an answers file is a mapping",
        {"answers.yaml": "- Northwind\n- Chatbot\n"},
    ),
    Case(
        "init-answers-aliases",
        "infra-policy init",
        "An answers file with YAML anchors and aliases",
        ("init", "--answers", "answers.yaml"),
        2,
        "anchors and aliases",
        {"answers.yaml": "organization: &o\n  name: Northwind\nworkloads:\n  - *o\n"},
    ),
    Case(
        "init-answers-missing",
        "infra-policy init",
        "The answers file does not exist",
        ("init", "--answers", "answers.yaml"),
        2,
        "answers.yaml: no such file",
    ),
    Case(
        "init-output-exists",
        "infra-policy init",
        "The facts file to write exists already (it is kept)",
        ("init", "--template"),
        2,
        "facts.ttl exists",
        {"facts.ttl": GOOD_FACTS},
    ),
    # --- usage -------------------------------------------------------------------------
    Case(
        "why-names-nothing",
        "Usage",
        "explain --why with a name that is in the decision under no spelling",
        ("explain", "facts.ttl", "--why", "billing"),
        2,
        "names nothing in this decision",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "stdin-twice",
        "Usage",
        "site with standard input (-) given twice",
        ("site", "-", "-", "-o", "out"),
        2,
        "standard input (-) can be given only once",
    ),
    Case(
        "output-directory-missing",
        "Usage",
        "--output into a directory that does not exist (nothing is written)",
        ("evaluate", "facts.ttl", "--output", "out/decision.json"),
        2,
        "the directory out does not exist",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "output-is-a-directory",
        "Usage",
        "--output naming a directory (nothing is written)",
        ("evaluate", "facts.ttl", "--output", "out"),
        2,
        "it is a directory",
        {"facts.ttl": GOOD_FACTS, "out": DIRECTORY},
    ),
    Case(
        "batch-pattern-matches-nothing",
        "Usage",
        "A batch: a glob pattern that matches no file",
        ("evaluate", "facts/*.ttl"),
        2,
        "no file matches this pattern",
        {"facts/readme.txt": "not facts"},
    ),
    Case(
        "batch-stdin",
        "Usage",
        "A batch: standard input (-) among several files",
        ("evaluate", "facts.ttl", "-"),
        2,
        "standard input (-) cannot be part of a batch",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "batch-same-output-name",
        "Usage",
        "A batch into one file each (-o DIR/): two files that would get the same name (nothing is written)",
        ("evaluate", "a/facts.ttl", "b/facts.ttl", "-o", "out/"),
        2,
        "would both be written as facts.txt",
        {"a/facts.ttl": GOOD_FACTS, "b/facts.ttl": GOOD_FACTS, "out": DIRECTORY},
    ),
    Case(
        "batch-rdf-needs-directory",
        "Usage",
        "A batch in Turtle or JSON-LD without -o DIR/ (one document per file)",
        ("evaluate", "facts.ttl", "other.ttl", "--format", "turtle"),
        2,
        "writes one document per file",
        {"facts.ttl": GOOD_FACTS, "other.ttl": GOOD_FACTS},
    ),
    Case(
        "batch-keep-going",
        "Usage",
        "A batch with --keep-going: the failed files are listed with their errors, the others evaluated (exit 1)",
        ("evaluate", "good.ttl", "bad.ttl", "--keep-going", "--format", "json", "-o", "decisions.jsonl"),
        1,
        "1 of 2 files failed: bad.ttl",
        {"good.ttl": GOOD_FACTS, "bad.ttl": ttl("ex:acme a ip:Organization ; ip:dataSensitivty ip:Internal .\n")},
    ),
    Case(
        "unknown-input-format",
        "Usage",
        "An unknown --input-format",
        ("validate", "facts.ttl", "--input-format", "yaml"),
        2,
        "Invalid value for '--input-format'",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "limit-not-positive",
        "Usage",
        "A limit that is not a positive number",
        ("evaluate", "facts.ttl", "--max-triples", "0"),
        2,
        "Invalid value for '--max-triples'",
        {"facts.ttl": GOOD_FACTS},
    ),
    # --- rule files ------------------------------------------------------------------------
    rules_case(
        "rules-directory-missing", "The rules directory does not exist", {}, "the rules directory does not exist"
    ),
    rules_case("no-rule-files", "A rules directory without rule files", {"rules": DIRECTORY}, "no rule files"),
    rules_case(
        "yaml-syntax",
        "A YAML syntax error, with line and column",
        {"rules/latency.yaml": rule_file(GOOD_RULE).replace("  title:", "  title: [", 1)},
        "not valid YAML",
    ),
    rules_case(
        "rule-file-not-mapping",
        "A rule file that is not a mapping",
        {"rules/latency.yaml": "- just\n- a list\n"},
        "must be a mapping",
    ),
    rules_case(
        "rule-file-binary",
        "A binary rule file",
        {"rules/latency.yaml": b"\x00\x01\x02"},
        "binary file",
    ),
    rules_case(
        "yaml-aliases",
        "YAML anchors and aliases (which can expand without bound)",
        {"rules/latency.yaml": rule_file(GOOD_RULE).replace("claims: [", "claims: &c [") + "extra: *c\n"},
        "anchors and aliases",
    ),
    rules_case(
        "schema-missing-key",
        "A rule without a required key (schema)",
        {
            "rules/latency.yaml": rule_file(
                GOOD_RULE.replace("  rationale: Requests that must return quickly gain from short network paths.\n", "")
            )
        },
        "'rationale' is a required property",
    ),
    rules_case(
        "schema-two-operators",
        "A test with two operators (schema)",
        {"rules/latency.yaml": rule_file(GOOD_RULE.replace("less_than: 50", "less_than: 50, at_most: 20"))},
        "exactly one operator",
    ),
    rules_case(
        "schema-unknown-key",
        "An unknown key in a rule (schema)",
        {"rules/latency.yaml": rule_file(GOOD_RULE.replace("  title:", "  tittle: x\n  title:"))},
        "see rules/schema.json",
    ),
    rules_case(
        "unknown-fact",
        "A test on an unknown fact, with the closest known one",
        {"rules/latency.yaml": rule_file(GOOD_RULE.replace("latencyBudgetMs", "latencyBudget"))},
        "Did you mean 'latencyBudgetMs'?",
    ),
    rules_case(
        "plan-unknown-reason",
        "A plan rule testing the counted reasons with a rule id that is not an assessment for that side",
        {
            **RULES,
            "rules/latency.yaml": rule_file(GOOD_RULE),
            "rules/plans.yaml": rule_file(
                """\
                - id: plans.latency-in-house
                  title: Serve in-house where latency calls for it.
                  priority: 10
                  when: {fact: in_house_reasons, equals: latency.tigt}
                  then: {plan: {in_house: [serving], cloud: [the rest]}}
                  rationale: An example of a plan rule naming a counted reason.
                  claims: [claim:conclusion-hybrid-mix]
                """,
                "ruleset: plans\nkind: plan\n",
            ),
        },
        "Did you mean 'latency.tight'?",
    ),
    rules_case(
        "unknown-value",
        "A value the fact cannot take",
        {
            "rules/latency.yaml": rule_file(
                GOOD_RULE.replace("{fact: latencyBudgetMs, less_than: 50}", "{fact: usersLocation, equals: Nearby}")
            )
        },
        "'Nearby' is not a value of 'usersLocation'",
    ),
    rules_case(
        "unknown-safeguard-in-mitigation",
        "A mitigation naming a cloud safeguard the vocabulary does not have",
        {
            "rules/latency.yaml": rule_file(
                GOOD_RULE + "  mitigation:\n    advice: Use a region near the users.\n    safeguards: [EdgeCache]\n"
            )
        },
        "'EdgeCache' is not a cloud safeguard",
    ),
    rules_case(
        "not-weighed-unknown-value",
        "A value listed as carrying no weight that the fact cannot take",
        {
            "rules/latency.yaml": rule_file(
                GOOD_RULE,
                header="ruleset: latency\nkind: factor\nfactor: latency\n"
                "not_weighed:\n  usersLocation:\n    Nearby: Users close by change nothing here.\n",
            )
        },
        "'Nearby' is not a value of 'usersLocation'",
    ),
    rules_case(
        "comparison-on-non-number",
        "A numeric comparison on a fact that is not a number",
        {"rules/latency.yaml": rule_file(GOOD_RULE.replace("latencyBudgetMs", "usersLocation"))},
        "compares numbers only",
    ),
    rules_case(
        "number-not-comparable-in-rule",
        "A number the rule engine cannot compare",
        {"rules/latency.yaml": rule_file(GOOD_RULE.replace("less_than: 50", "less_than: 1.0e+20"))},
        "cannot be compared by the rule engine",
    ),
    rules_case(
        "unknown-factor",
        "An unknown factor",
        {"rules/latency.yaml": rule_file(GOOD_RULE, "ruleset: latency\nkind: factor\nfactor: speed\n")},
        "unknown factor 'speed'",
    ),
    rules_case(
        "unknown-claim",
        "An unknown claim of the knowledge base",
        {"rules/latency.yaml": rule_file(GOOD_RULE.replace("inhouse-pro-low-latency", "inhouse-pro-speed"))},
        "unknown claim 'claim:inhouse-pro-speed'",
    ),
    rules_case(
        "rule-id-prefix",
        "A rule id that does not start with its rule set's name",
        {"rules/latency.yaml": rule_file(GOOD_RULE.replace("id: latency.tight", "id: speed.tight"))},
        "the id must start with the rule set name",
    ),
    rules_case(
        "wrong-conclusion-kind",
        "A factor rule that concludes a stance",
        {
            "rules/latency.yaml": rule_file(
                GOOD_RULE.replace("{assess: {favors: in-house, weight: 2}}", "{stance: cloud}")
            )
        },
        "a factor rule concludes with assess or rule_out or require or derive",
    ),
    rules_case(
        "duplicate-id",
        "Two rules with the same id",
        {"rules/latency.yaml": rule_file(GOOD_RULE + GOOD_RULE)},
        "duplicate id",
    ),
    rules_case(
        "stance-without-priority",
        "A stance rule without a priority",
        {
            "rules/stance.yaml": rule_file(
                """\
                - id: stance.always-cloud
                  title: Always the cloud.
                  when: {fact: margin, at_least: 0}
                  then: {stance: cloud}
                  rationale: An example of a stance rule that forgot its priority.
                  claims: [claim:conclusion-no-single-answer]
                """,
                "ruleset: stance\nkind: stance\nparameters: {strong_weight: 3}\n",
            )
        },
        "stance rules need a priority",
    ),
    rules_case(
        "concluded-never-derived",
        "A test on an intermediate conclusion that no rule derives",
        {
            **RULES,
            "rules/latency.yaml": rule_file(
                GOOD_RULE.replace("{fact: latencyBudgetMs, less_than: 50}", "{concluded: fast-users}")
            ),
        },
        "no rule derives 'fast-users'",
    ),
    rules_case(
        "conclusion-cycle",
        "Intermediate conclusions that depend on each other",
        {
            **RULES,
            "rules/latency.yaml": rule_file(
                """\
                - id: latency.a
                  title: A follows from B.
                  when: {concluded: b}
                  then: {derive: a}
                  rationale: One half of a circular definition.
                  claims: [claim:inhouse-pro-low-latency]
                - id: latency.b
                  title: B follows from A.
                  when: {concluded: a}
                  then: {derive: b}
                  rationale: The other half of a circular definition.
                  claims: [claim:inhouse-pro-low-latency]
                """
            ),
        },
        "form a cycle",
    ),
    rules_case(
        "missing-stance-rules",
        "No stance rule set",
        {"rules/latency.yaml": rule_file(GOOD_RULE), "rules/organization.yaml": RULES["rules/organization.yaml"]},
        "exactly one rule set of kind 'stance'",
    ),
    rules_case(
        "factor-cap-not-a-number",
        "A stance rule set whose factor_cap is not a whole number",
        {
            "rules/latency.yaml": rule_file(GOOD_RULE),
            "rules/organization.yaml": RULES["rules/organization.yaml"],
            "rules/stance.yaml": (PACKAGED_RULES / "stance.yaml")
            .read_text(encoding="utf-8")
            .replace("factor_cap: 3\n", "factor_cap: lots\n"),
        },
        "parameters.factor_cap is 'lots'",
    ),
    rules_case(
        "strong-weight-not-a-number",
        "A stance rule set whose strong_weight is not a whole number",
        {
            "rules/latency.yaml": rule_file(GOOD_RULE),
            "rules/organization.yaml": RULES["rules/organization.yaml"],
            "rules/stance.yaml": (PACKAGED_RULES / "stance.yaml")
            .read_text(encoding="utf-8")
            .replace("strong_weight: 3\n", "strong_weight: strong\n"),
        },
        "it must be a whole number",
    ),
    # --- knowledge base ------------------------------------------------------------------------
    kb_case("kb-directory-missing", "The knowledge base directory does not exist", {}, "directory does not exist"),
    kb_case(
        "kb-file-missing",
        "A knowledge base file is missing",
        {name: src for name, src in KB.items() if not name.endswith("shapes.ttl")},
        "the knowledge base file is missing",
    ),
    kb_case(
        "kb-syntax",
        "A knowledge base file that is not valid Turtle",
        {**KB, "kb/shapes.ttl": "@prefix sh: <http://www.w3.org/ns/shacl#> .\nthis is not turtle\n"},
        "not valid Turtle",
    ),
    kb_case(
        "kb-no-claims",
        "A knowledge base without claims",
        {**KB, "kb/claims.ttl": "# no claims yet\n"},
        "defines no factors or no claims",
    ),
    kb_case(
        "kb-no-vocabulary",
        "A knowledge base whose ontology defines no facts properties",
        {**KB, "kb/ontology.ttl": "# an empty ontology\n"},
        "no facts properties",
    ),
    # --- special files, outputs, records and logs -----------------------------------------
    facts_case(
        "facts-fifo",
        "A named pipe (or device) instead of a facts file: refused at once, never waited on",
        FIFO,
        "is a FIFO (named pipe), not a regular file",
    ),
    Case(
        "output-not-regular",
        "Output, records and logs",
        "--output naming a device, pipe or socket (never replaced by a file)",
        ("evaluate", "facts.ttl", "--output", "pipe"),
        2,
        "it is a FIFO (named pipe)",
        {"facts.ttl": GOOD_FACTS, "pipe": FIFO},
    ),
    Case(
        "output-symlink",
        "Output, records and logs",
        "--output naming a symbolic link (neither the link nor its target is touched)",
        ("evaluate", "facts.ttl", "--output", "latest.txt"),
        2,
        "it is a symbolic link",
        {"facts.ttl": GOOD_FACTS, "decision.txt": "an earlier decision\n", "latest.txt": Link("decision.txt")},
    ),
    Case(
        "record-dir-not-a-folder",
        "Output, records and logs",
        "--record naming a file (and -o is not written either)",
        ("evaluate", "facts.ttl", "--record", "records", "--output", "out.txt"),
        2,
        "cannot write the record into records",
        {"facts.ttl": GOOD_FACTS, "records": "a file\n"},
    ),
    Case(
        "log-is-a-directory",
        "Output, records and logs",
        "--log naming a directory",
        ("evaluate", "facts.ttl", "--log", "logs"),
        2,
        "is a directory; --log names the decision log file",
        {"facts.ttl": GOOD_FACTS, "logs": DIRECTORY},
    ),
    Case(
        "log-last-line-incomplete",
        "Output, records and logs",
        "A decision log whose last entry was cut off (a full disk, a kill): nothing is appended",
        ("evaluate", "facts.ttl", "--log", "decisions.jsonl"),
        2,
        "audit --log decisions.jsonl",
        {"facts.ttl": GOOD_FACTS, "decisions.jsonl": '{"format":"infra-policy/log@1","seq":1,'},
    ),
    Case(
        "log-not-a-log",
        "Output, records and logs",
        "--log naming a file that is not a decision log",
        ("evaluate", "facts.ttl", "--log", "notes.txt"),
        2,
        "the last line is not a decision log entry",
        {"facts.ttl": GOOD_FACTS, "notes.txt": "garbage\n"},
    ),
    Case(
        "log-symlink",
        "Output, records and logs",
        "--log naming a symbolic link",
        ("evaluate", "facts.ttl", "--log", "latest.jsonl"),
        2,
        "it is a symbolic link",
        {"facts.ttl": GOOD_FACTS, "decisions.jsonl": "", "latest.jsonl": Link("decisions.jsonl")},
    ),
    Case(
        "record-not-json",
        "Output, records and logs",
        "audit of a record that is not JSON",
        ("audit", "record.json"),
        2,
        "is not a decision record: not valid JSON",
        {"record.json": '{"id": "sha256:…",\n'},
    ),
    Case(
        "record-huge-number",
        "Output, records and logs",
        "audit of a record with a number of more than 4,300 digits",
        ("audit", "record.json"),
        2,
        "a number too long to read",
        {"record.json": '{"seq": 1' + "0" * 5000 + "}\n"},
    ),
    Case(
        "site-current-folder",
        "Output, records and logs",
        "site -o naming the current folder (or a mount point)",
        ("site", "facts.ttl", "-o", "."),
        2,
        "cannot be replaced as a whole",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "site-folder-link",
        "Output, records and logs",
        "site -o naming a symbolic link (the site replaces its folder as a whole, so a link is never followed)",
        ("site", "facts.ttl", "-o", "latest"),
        2,
        "is a symbolic link; -o must name the site's folder itself",
        {"facts.ttl": GOOD_FACTS, "site-2026": DIRECTORY, "latest": Link("site-2026")},
    ),
    Case(
        "batch-special-file",
        "Output, records and logs",
        "A batch folder holding a pipe, socket or broken link named like a facts file (named, not skipped)",
        ("evaluate", "facts", "--format", "json", "-o", "out.jsonl"),
        2,
        "is a FIFO (named pipe), not a regular file",
        {"facts/a.ttl": GOOD_FACTS, "facts/b.ttl": FIFO},
    ),
    Case(
        "site-record-malformed",
        "Output, records and logs",
        "site --records with a sealed record whose content is malformed",
        ("site", "--records", "records", "-o", "out"),
        2,
        "not a decision document that can be published",
        {"records/malformed.json": json.dumps(MALFORMED_RECORD, indent=2) + "\n"},
    ),
    Case(
        "site-keep-going",
        "Output, records and logs",
        "site --keep-going with a facts file that fails (the others are published; exit 1)",
        ("site", "--keep-going", "good.ttl", "bad.ttl", "-o", "site"),
        1,
        "1 of 2 inputs failed: bad.ttl (every other decision was published)",
        {"good.ttl": GOOD_FACTS, "bad.ttl": ttl("ex:acme a ip:Organization ; ip:itStaffFTE -3 .\n")},
    ),
    Case(
        "site-cache-shared",
        "Output, records and logs",
        "site --cache naming a folder other users can write to",
        ("site", "facts.ttl", "-o", "out", "--cache", "cache"),
        2,
        "can be written by other users",
        {"facts.ttl": GOOD_FACTS, "cache": SHARED_DIRECTORY},
    ),
    Case(
        "site-cache-link",
        "Output, records and logs",
        "site --cache naming a symbolic link",
        ("site", "facts.ttl", "-o", "out", "--cache", "cache"),
        2,
        "the site cache is a symbolic link",
        {"facts.ttl": GOOD_FACTS, "elsewhere": DIRECTORY, "cache": Link("elsewhere")},
    ),
    Case(
        "site-cache-and-no-cache",
        "Output, records and logs",
        "site with both --cache and --no-cache",
        ("site", "facts.ttl", "-o", "out", "--cache", "cache", "--no-cache"),
        2,
        "--cache and --no-cache cannot be given together",
        {"facts.ttl": GOOD_FACTS},
    ),
    Case(
        "site-log-without-records",
        "Output, records and logs",
        "site --log without --records",
        ("site", "facts.ttl", "--log", "decisions.jsonl", "-o", "out"),
        2,
        "give --records DIR too",
        {"facts.ttl": GOOD_FACTS, "decisions.jsonl": "\n"},
    ),
    Case(
        "site-log-broken",
        "Output, records and logs",
        "site --log with a decision log whose hash chain does not verify",
        ("site", "--records", "records", "--log", "decisions.jsonl", "-o", "out"),
        2,
        "the decision log does not verify",
        {"records": DIRECTORY, "decisions.jsonl": '{"format": "infra-policy/log@1", "seq": 2}\n'},
    ),
    Case(
        "sign-without-record",
        "Output, records and logs",
        "--sign without --record or --log",
        ("evaluate", "facts.ttl", "--sign", "key"),
        2,
        "--sign signs a record or a log head",
        {"facts.ttl": GOOD_FACTS, "key": "not a key\n"},
    ),
    Case(
        "sign-not-a-key",
        "Output, records and logs",
        "--sign with a file that is not a private key (nothing is written)",
        ("evaluate", "facts.ttl", "--record", "records", "--sign", "key"),
        2,
        "not an unencrypted Ed25519 private key",
        {"facts.ttl": GOOD_FACTS, "key": "not a key\n"},
    ),
    Case(
        "trust-not-a-key",
        "Output, records and logs",
        "audit --trust with a file that is not a public key",
        ("audit", "record.json", "--trust", "key.pub"),
        2,
        "not an Ed25519 public key",
        {"record.json": "{}\n", "key.pub": "not a key\n"},
    ),
    Case(
        "keys-exist",
        "Output, records and logs",
        "keys generate over an existing file (keys are never overwritten)",
        ("keys", "generate", "key"),
        2,
        "already exists",
        {"key": "an older key\n"},
    ),
    # --- hostile facts --------------------------------------------------------------------
    facts_case(
        "blank-node-organization",
        "An organization without an IRI (a blank node)",
        ttl('[] a ip:Organization ; ip:name "Acme" ; ip:hasWorkload ex:chat .\nex:chat a ip:Workload .\n'),
        "the organization is a blank node",
    ),
    facts_case(
        "too-many-workloads",
        f"More workloads than --max-workloads (default {DEFAULT_LIMITS.max_workloads:,})",
        GOOD_FACTS + 'ex:acme ip:hasWorkload ex:mail .\nex:mail a ip:Workload ; ip:name "Mail" .\n',
        "more than 1 workloads",
        args=("evaluate", "facts.ttl", "--max-workloads", "1"),
    ),
    facts_case(
        "number-too-many-digits",
        "A number of more than 4,300 digits",
        ttl("ex:acme a ip:Organization ; ip:itStaffFTE 1" + "0" * 4300 + " .\n"),
        "a number has more than 4,300 digits",
    ),
    # --- rule complexity ------------------------------------------------------------------
    rules_case(
        "rule-file-special",
        "A rule file that is a device or a pipe",
        {"rules/latency.yaml": Link("/dev/zero")},
        "latency.yaml: is a character device, not a regular file",
    ),
    rules_case(
        "rule-in-too-many-values",
        "More values in one 'in:' than the schema allows (100)",
        {
            "rules/latency.yaml": rule_file(
                GOOD_RULE.replace(
                    "{fact: latencyBudgetMs, less_than: 50}",
                    "{fact: latencyBudgetMs, in: [" + ", ".join(map(str, range(101))) + "]}",
                )
            )
        },
        "has 101 values; at most 100 are allowed",
    ),
    rules_case(
        "rule-nested-too-deep",
        "A condition nested deeper than limits.condition_depth (8)",
        {
            "rules/latency.yaml": rule_file(
                GOOD_RULE.replace(
                    "{fact: latencyBudgetMs, less_than: 50}",
                    "{not: " * 9 + "{fact: latencyBudgetMs, less_than: 50}" + "}" * 9,
                )
            )
        },
        "nests all/any/not 9 levels deep",
    ),
    rules_case(
        "rule-too-many-alternatives",
        "A condition that expands beyond limits.condition_alternatives (1,024)",
        {
            "rules/latency.yaml": rule_file(
                GOOD_RULE.replace(
                    "{fact: latencyBudgetMs, less_than: 50}",
                    "{not: {any: ["
                    + ", ".join(
                        f"{{all: [{{fact: latencyBudgetMs, less_than: {i}}}, {{fact: itStaffFTE, less_than: {i}}}]}}"
                        for i in range(1, 7)
                    )
                    + "]}}",
                )
            )
        },
        "expands to 4,096 alternatives",
    ),
    rules_case(
        "rule-derivation-too-deep",
        "Derived conclusions chained deeper than limits.derivation_layers (16)",
        {
            **RULES,
            "rules/latency.yaml": rule_file(
                "".join(
                    GOOD_RULE.replace("latency.tight", f"latency.step{i}")
                    .replace(
                        "{fact: latencyBudgetMs, less_than: 50}",
                        f"{{concluded: step-{i - 1}}}" if i else "{fact: latencyBudgetMs, less_than: 50}",
                    )
                    .replace("{assess: {favors: in-house, weight: 2}}", f"{{derive: step-{i}}}")
                    for i in range(17)
                )
            ),
        },
        "rests on a chain of 16 derived conclusions",
    ),
]
CASES += overlay_cases(Case)


def policy_test_case(id: str, title: str, suite: str, expect: str, args: tuple[str, ...] = (), **kw) -> Case:
    files = {"facts.ttl": GOOD_FACTS, "policy.yaml": suite, **kw.pop("files", {})}
    command = ("test", "policy.yaml", *args) if not kw.get("command") else kw.pop("command")
    return Case(id, "Policy tests (infra-policy test) and coverage", title, command, kw.pop("exit", 2), expect, files)


GOOD_CASE = "cases:\n  - name: chat\n    facts: facts.ttl\n    expect:\n"

CASES += [
    policy_test_case(
        "policy-test-yaml",
        "A policy test file that is not valid YAML",
        "cases:\n  - name: chat\n    facts: [facts.ttl\n",
        "policy.yaml, line 4, column 1: not valid YAML",
    ),
    policy_test_case(
        "policy-test-schema",
        "A policy test file that breaks its schema (rules/policy-test.schema.json)",
        GOOD_CASE + "      organization: {stance: sideways}\n",
        "'sideways' is not one of",
    ),
    policy_test_case(
        "policy-test-facts-twice",
        "A case with both a facts file and inline Turtle",
        GOOD_CASE.replace("facts: facts.ttl", "facts: facts.ttl\n    turtle: x")
        + "      organization: {stance: cloud}\n",
        "a case names its facts once",
    ),
    policy_test_case(
        "policy-test-unknown-workload",
        "An expectation about a workload the facts do not have",
        GOOD_CASE + "      workloads:\n        Chatbot: {stance: cloud}\n",
        "there is no workload 'Chatbot' in the facts",
    ),
    policy_test_case(
        "policy-test-unknown-rule",
        "A rule id the policy does not have",
        GOOD_CASE + "      fires: [privacy.sensitive-dta]\n",
        "unknown rule id 'privacy.sensitive-dta' in fires. Did you mean 'privacy.sensitive-data'?",
    ),
    policy_test_case(
        "policy-test-unknown-property",
        "A property the vocabulary does not have, in not_weighed",
        GOOD_CASE + "      not_weighed: [dataSensitivty]\n",
        "unknown property 'dataSensitivty' in not_weighed. Did you mean 'dataSensitivity'?",
    ),
    policy_test_case(
        "policy-test-unknown-plan",
        "A plan the policy does not name",
        GOOD_CASE + "      organization: {plan: split-by-worklod}\n",
        "unknown plan 'split-by-worklod'. Did you mean 'split-by-workload'?",
    ),
    policy_test_case(
        "policy-test-missing-facts",
        "A facts file that does not exist (paths are relative to the test file)",
        GOOD_CASE.replace("facts.ttl", "fatcs.ttl") + "      organization: {stance: cloud}\n",
        "the facts file 'fatcs.ttl' does not exist",
    ),
    policy_test_case(
        "policy-test-duplicate-case",
        "Two cases with the same name",
        GOOD_CASE
        + "      organization: {stance: cloud}\n"
        + GOOD_CASE.replace("cases:\n", "")
        + "      organization: {stance: cloud}\n",
        "the case name is used twice",
    ),
    policy_test_case(
        "policy-test-bad-turtle",
        "Inline Turtle that does not parse",
        "cases:\n  - name: inline\n    turtle: 'ex:o a ip:Organization .'\n"
        "    expect: {organization: {stance: cloud}}\n",
        "its inline Turtle cannot be used",
    ),
    policy_test_case(
        "policy-test-invalid-inline-facts",
        "Inline Turtle that breaks the vocabulary (its lines are the test file's)",
        "cases:\n  - name: inline\n    turtle: |\n      @prefix ip: <https://w3id.org/infra-policy#> .\n"
        '      <https://example.com/o> a ip:Organization ;\n        ip:itStaffFTE "many" .\n'
        "    expect: {organization: {stance: cloud}}\n",
        "  - line 6: <https://example.com/o>: ip:itStaffFTE has the value",
    ),
    policy_test_case(
        "policy-test-bad-assumption",
        "An assumption (assume:) that names no property",
        GOOD_CASE.replace("    expect:", "    assume: [itStaff=2]\n    expect:")
        + "      organization: {stance: cloud}\n",
        "its facts cannot be used: --set 'itStaff=2'",
    ),
    policy_test_case(
        "policy-test-aliases",
        "YAML aliases in a policy test file",
        "cases:\n  - &one\n    name: chat\n    facts: facts.ttl\n"
        "    expect: {organization: {stance: cloud}}\n  - *one\n",
        "uses YAML aliases",
    ),
    policy_test_case(
        "policy-test-no-file",
        "A policy test file that does not exist",
        "",
        "nope.yaml: no such file",
        command=("test", "nope.yaml"),
    ),
    policy_test_case(
        "policy-test-empty-directory",
        "A directory without policy test files",
        "",
        "a directory without policy test files",
        command=("test", "tests"),
        files={"tests": DIRECTORY},
    ),
    policy_test_case(
        "policy-test-fail-under-alone",
        "--fail-under without --coverage",
        GOOD_CASE + "      organization: {stance: cloud}\n",
        "--fail-under needs --coverage",
        args=("--fail-under", "80"),
    ),
    policy_test_case(
        "coverage-no-corpus",
        "coverage without facts or records",
        "",
        "give at least one FACTS file or --records DIR",
        command=("coverage",),
    ),
]


def _write(root: Path, files: dict[str, object]) -> None:
    for name, content in files.items():
        path = root / name
        if content is DIRECTORY:
            path.mkdir(parents=True, exist_ok=True)
            continue
        if content is SHARED_DIRECTORY:
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o777)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is FIFO:
            os.mkfifo(path)
            continue
        if isinstance(content, Link):
            path.symlink_to(content.target)
            continue
        if isinstance(content, Packaged):
            path.write_bytes(content.source.read_bytes())
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(str(content), encoding="utf-8")


def run_case(case: Case) -> tuple[int, str]:
    """Run a case through the real CLI in an empty directory; (exit status, what it printed)."""
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as here, contextlib.chdir(here):
        _write(Path(here), case.files)
        result = runner.invoke(main, list(case.args), prog_name="infra-policy", catch_exceptions=False)
        output = result.output
        assert str(Path(here).resolve()) not in output and here not in output, "a message names a temporary path"
        out = Path(here, "out")
        assert not out.exists() or (out.is_dir() and not any(out.iterdir())), "a failed run wrote output"
    return result.exit_code, output


_LANG = {".ttl": "turtle", ".yaml": "yaml", ".jsonld": "json", ".rdf": "xml", ".nt": "text"}


def _render_input(name: str, content: object) -> str:
    if content is FIFO:
        return f"`{name}` is a named pipe (`mkfifo {name}`) that nobody writes to.\n\n"
    if isinstance(content, Link):
        return f"`{name}` is a symbolic link to `{content.target}`.\n\n"
    if isinstance(content, Packaged) or content is DIRECTORY:
        return ""
    if isinstance(content, bytes):
        shown, lang = repr(content), "text"
        return f"`{name}` (bytes):\n\n```{lang}\n{shown}\n```\n\n"
    text = str(content)
    lang = _LANG.get(Path(name).suffix, "text")
    return f"`{name}`:\n\n```{lang}\n{text.rstrip()}\n```\n\n" if text else f"`{name}`: an empty file.\n\n"


def render_case(case: Case, status: int, output: str) -> str:
    parts = [f'### {case.title}\n\n<a id="{case.id}"></a>Case `{case.id}`.\n\n']
    for name, content in case.files.items():
        if content is DIRECTORY:
            parts.append(f"`{name}/` is a directory.\n\n")
        elif content is SHARED_DIRECTORY:
            parts.append(f"`{name}/` is a directory anyone can write to (`chmod 777 {name}`).\n\n")
        else:
            parts.append(_render_input(name, content))
    copied = sorted(name for name, content in case.files.items() if isinstance(content, Packaged))
    if copied:
        parts.append(f"(with {', '.join(f'`{n}`' for n in copied)} copied from the packaged files)\n\n")
    parts.append(f"```console\n$ infra-policy {' '.join(case.args)}\n{output.rstrip()}\n```\n\n")
    parts.append(f"Exit status {status}.\n\n")
    return "".join(parts)


PREAMBLE = """\
# Error catalogue

Every error infra-policy gives, with an example input and the exact message it prints. This file is
generated by `tests/test_errors_catalogue.py` from the cases it runs through the real command line, so it
cannot drift; after an intended change of a message run
`UPDATE_ERRORS_DOC=1 python -m pytest tests/test_errors_catalogue.py` and review the diff.

How errors work:

- Exit status **2**: bad input or usage. One paragraph per problem, naming the file, the line (and column
  when the parser knows it), the subject and property, what is wrong and what is allowed. Several problems
  in one facts file or one rules directory are all reported at once (a syntax error stops the parser, so it
  is reported alone). No traceback unless you pass `--debug` (`infra-policy --debug evaluate …`).
- Exit status **3**: an internal error (a bug): `error: internal error (…). Please report it; rerun with
  --debug for the traceback.`
- Exit status **1** is not an error but a check that ran and found something: `audit`, a failed case of
  `infra-policy test`, a coverage below `--fail-under`, and `rules check` (`FAIL direction`, `FAIL cliff`,
  `FAIL never-fires`, `FAIL shadowed`; `warning double-counting` does not fail). Their reports are on
  standard output and described in docs/policy-tests.md and docs/decision-model.md.
- A failed run writes nothing: `--output` and `--record` are written to temporary files and renamed only
  after every step succeeded, the `--log` entry included (one write, cut back if it fails). Files get the
  permissions the umask allows (0644 under the usual 022). I/O errors are exit status 2 and name the path.
- Only regular files are read or replaced: a device, a named pipe, a socket or (for outputs and logs) a
  symbolic link is refused with a message, never read from, waited on or replaced by a file. Size limits
  count the bytes actually read.
- The warnings and log lines of the libraries (rdflib, pySHACL) never reach the terminal; what they
  notice reaches you as one of the messages below.
- Nothing in any input makes infra-policy read another file or the network: JSON-LD contexts must be
  inline, RDF/XML may not have a document type declaration (so no entities and no DTD), and the
  knowledge base and rules are read only from the packaged folders or `--kb` / `--rules`.
- Limits: a facts file may have at most {facts_bytes:,} bytes (`--max-bytes`), {facts_triples:,} triples
  (`--max-triples`) and {facts_workloads:,} workloads (`--max-workloads`), counted while it is parsed; a rule
  file at most {rule_bytes:,} bytes; one rule's condition at most {in_values} values per `in:`, {depth} levels
  of all/any/not and {alternatives:,} alternatives once expanded, and factor rules at most {layers} layers of
  derived conclusions (the `limits` of rules/schema.json, checked before the rules are compiled).
- `infra-policy init` asks again, after "Sorry:", with the same sentences as an answers file's errors
  (see "infra-policy init" below) when an interactive answer is not allowed; nothing is written until
  every question is answered.
- One facts file describes exactly one organization. A file with two is refused, not evaluated per
  organization: a decision, its record and its digests are about one organization, and one file per
  organization keeps that unambiguous.

"""


def render_engine_section() -> str:
    status, output = action_failure_output()
    return (
        "## The rule engine\n\n"
        "### A rule's action fails inside durable-rules\n\n"
        '<a id="rule-action-failed"></a>Case `rule-action-failed` (tests/test_errors_engine.py). durable-rules '
        "swallows exceptions raised in actions; infra-policy checks every session and stops with an error "
        "naming the rule instead of silently missing its conclusion. The test makes the action of a real rule "
        f"raise, through the real durable engine; the command line prints, with exit status {status}:\n\n"
        f"```text\n{output.rstrip()}\n```\n"
    )


def render_catalogue(results: dict[str, tuple[int, str]]) -> str:
    sections: dict[str, list[str]] = {}
    for case in CASES:
        status, output = results[case.id]
        sections.setdefault(case.section, []).append(render_case(case, status, output))
    index = "".join(f"- [{c.title}](#{c.id})\n" for c in CASES) + "- [A rule's action fails](#rule-action-failed)\n"
    body = "".join(f"## {name}\n\n" + "".join(items) for name, items in sections.items())
    preamble = PREAMBLE.format(
        facts_bytes=DEFAULT_LIMITS.max_bytes,
        facts_triples=DEFAULT_LIMITS.max_triples,
        facts_workloads=DEFAULT_LIMITS.max_workloads,
        rule_bytes=MAX_RULE_FILE_BYTES,
        in_values=rules_schema()["$defs"]["test"]["properties"]["in"]["maxItems"],
        depth=RULE_LIMITS["condition_depth"],
        alternatives=RULE_LIMITS["condition_alternatives"],
        layers=RULE_LIMITS["derivation_layers"],
    )
    return preamble + "## Index\n\n" + index + "\n" + body + render_engine_section()


@pytest.fixture(scope="module")
def results() -> dict[str, tuple[int, str]]:
    found = {case.id: run_case(case) for case in CASES}
    if os.environ.get("UPDATE_ERRORS_DOC"):
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(render_catalogue(found), encoding="utf-8")
    return found


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_error_has_its_message_and_exit_status(case, results):
    status, output = results[case.id]
    assert status == case.exit, output
    assert case.expect in output, output
    assert "Traceback" not in output
    first = output.splitlines()[0] if output else ""
    assert first.startswith(("error: ", "Usage: ", "warning: ")), output
    if case.exit == 2 and first.startswith("error: "):
        # One message, nothing else on the terminal.
        assert output.count("error: ") == 1, output


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_message_is_in_the_catalogue(case, results):
    status, output = results[case.id]
    assert render_case(case, status, output) in DOC.read_text(encoding="utf-8")


def test_the_catalogue_is_what_the_cases_produce_now(results):
    expected = render_catalogue(results)
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/errors.md is stale: run UPDATE_ERRORS_DOC=1 python -m pytest tests/test_errors_catalogue.py"
    )
