"""`infra-policy init`: a person with no RDF knowledge gets a valid facts file and a decision.

The interactive path runs the installed program in a real pseudo-terminal (pexpect), as a person
would use it; --answers and --template run through the real CLI.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from pathlib import Path

import pexpect
import yaml
from rdflib import RDF, Graph, Literal, Namespace

import infra_policy
from infra_policy.engine.knowledge import load_knowledge_base
from infra_policy.engine.paths import PACKAGED_KB
from infra_policy.engine.questionnaire import Q, load_questions

IP = Namespace("https://w3id.org/infra-policy#")
PROMPT = r"\n  > "
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _program() -> str:
    found = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    assert found, "the console script infra-policy is not installed next to this Python"
    return found


def _spawn(tmp_path: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "100"}
    child = pexpect.spawn(
        _program(), ["init", *args], cwd=str(tmp_path), env=env, encoding="utf-8", timeout=30, dimensions=(40, 100)
    )
    child.logfile_read = transcript = _Transcript()
    child.transcript = transcript
    return child


class _Transcript:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def flush(self) -> None:
        pass

    def __str__(self) -> str:
        return "".join(self.parts)


def _expect_words(child: pexpect.spawn, text: str) -> None:
    """Expect ``text`` however the help was wrapped to the terminal."""
    child.expect(r"\s+".join(re.escape(word) for word in text.split()))


def _answer(child: pexpect.spawn, question: str, answer: str) -> None:
    child.expect_exact(question)
    child.expect(PROMPT)
    child.sendline(answer)


def _dont_know_to_the_rest(child: pexpect.spawn, until: str) -> int:
    """Press Enter at every question until ``until`` is asked; return how many were skipped."""
    count = 0
    while child.expect([PROMPT, re.escape(until)]) == 0:
        child.sendline("")
        count += 1
    return count


def test_a_full_interactive_run_with_help_a_wrong_answer_and_dont_knows(tmp_path):
    child = _spawn(tmp_path, "-o", "facts.ttl")
    child.expect_exact("Name of your organization")
    child.sendline("Northwind Logistics")
    # help on a question a CTO could not answer from the docs
    child.expect_exact("Do you have a server room or data center")
    child.expect(PROMPT)
    child.sendline("?")
    _expect_words(child, "A closet with a few office servers or a NAS does not count")
    child.expect(PROMPT)
    child.sendline("maybe")
    child.expect_exact("Sorry: answer yes or no")
    child.expect(PROMPT)
    child.sendline("no")
    child.expect_exact("→ no")
    _answer(child, "How many people could run GPU servers", "?")
    _expect_words(child, "Generalist IT staff count at the share of time they could give")
    child.expect(PROMPT)
    child.sendline("1.5")
    skipped = _dont_know_to_the_rest(child, "more questions about Northwind Logistics")
    child.sendline("y")  # the questions kb/questions.ttl marks as "more" too
    skipped += _dont_know_to_the_rest(child, "Name of a workload")
    assert skipped == len([q for q in load_questions(infra_policy.knowledge_base()) if q.section == "organization"]) - 2
    child.sendline("Customer support chatbot")
    _answer(child, "What is the most sensitive data", "confidential")
    _answer(child, "Which regulations govern this data?", "gdpr, PCI DSS")
    child.expect_exact("→ GDPR, PCI DSS")
    _dont_know_to_the_rest(child, "Where do the requests come from?")
    child.expect(PROMPT)
    child.sendline("?")
    _expect_words(child, "a customer chatbot for customers in one country is regional")
    child.expect(PROMPT)
    child.sendline("regional")
    _dont_know_to_the_rest(child, "more questions about Customer support chatbot")
    child.sendline("")  # no more questions
    child.expect_exact("Do you have cost figures for Customer support chatbot")
    child.sendline("")  # no cost figures
    child.expect_exact("Name of workload 2")
    child.sendline("Route planning assistant")
    _answer(child, "What is the most sensitive data", "2")  # by number: internal
    _dont_know_to_the_rest(child, "more questions about Route planning assistant")
    child.sendline("n")
    child.expect_exact("Do you have cost figures for Route planning assistant")
    child.sendline("y")
    _answer(child, "Cloud price per hour", "$12.5")
    _dont_know_to_the_rest(child, "Name of workload 3")
    child.sendline("")
    child.expect_exact("Wrote facts.ttl: Northwind Logistics, 2 workloads — valid.")
    child.expect_exact("Evaluate it now?")
    child.sendline("")
    child.expect_exact("Northwind Logistics: ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, str(child.transcript)
    assert not ANSI.search(str(child.transcript)), "NO_COLOR: no escape sequences"

    facts = tmp_path / "facts.ttl"
    result = infra_policy.validate(facts)
    assert result.workloads == ("Customer support chatbot", "Route planning assistant")
    graph = Graph().parse(facts)
    org = next(graph.subjects(RDF.type, IP.Organization))
    assert graph.value(org, IP.hasDataCenter) == Literal(False)
    assert float(graph.value(org, IP.itStaffFTE)) == 1.5
    assert graph.value(org, IP.connectivity) is None  # don't know: left out
    chatbot = next(s for s in graph.subjects(IP.name, Literal("Customer support chatbot")))
    assert set(graph.objects(chatbot, IP.regulatedBy)) == {IP.GDPR, IP.PCIDSS}
    assert graph.value(chatbot, IP.usersLocation) == IP.Regional
    planner = next(s for s in graph.subjects(IP.name, Literal("Route planning assistant")))
    assert graph.value(planner, IP.dataSensitivity) == IP.Internal
    assert float(graph.value(planner, IP.cloudCostPerHourUSD)) == 12.5
    # the decision printed is the decision of the file
    decision = infra_policy.evaluate(facts)
    assert f"Northwind Logistics: {decision.stance.upper()}" in str(child.transcript)


def test_every_answer_dont_know_still_gives_a_valid_file_and_a_decision(tmp_path):
    child = _spawn(tmp_path)
    child.expect_exact("Name of your organization")
    child.sendline("")  # the default name
    _dont_know_to_the_rest(child, "more questions about My organization")
    child.sendline("y")
    _dont_know_to_the_rest(child, "Name of a workload")
    child.sendline("")  # no workloads: the organization is the workload
    child.expect_exact("No workloads: the organization is evaluated as one workload")
    _dont_know_to_the_rest(child, "more questions about My organization")
    child.sendline("y")
    _dont_know_to_the_rest(child, "Do you have cost figures for My organization")
    child.sendline("n")
    child.expect_exact("Evaluate it now?")
    child.sendline("n")
    child.expect_exact("Next: infra-policy evaluate facts.ttl")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, str(child.transcript)
    facts = tmp_path / "facts.ttl"
    text = facts.read_text(encoding="utf-8")
    assert 'Answered "don\'t know", so left out: ip:hasDataCenter' in text
    for question in load_questions(infra_policy.knowledge_base()):
        if question.section != "cost":
            assert f"ip:{question.name}" in text, question.name  # every question was asked and left out
    check = infra_policy.validate(facts)
    assert check.organization == "My organization" and check.implicit_workload
    workload = infra_policy.evaluate(facts).to_dict()["workloads"][0]
    # the result says what to answer next (the decision model lists it as questions or missing facts)
    assert workload.get("questions") or workload["missing_facts"]


ANSWERS = {
    "organization": {"name": "Northwind Logistics", "hasDataCenter": False, "itStaffFTE": 1.5},
    "workloads": [
        {
            "name": "Customer support chatbot",
            "dataSensitivity": "confidential",
            "regulatedBy": ["GDPR", "PCI DSS"],
            "usersLocation": "Regional",
            "gpuHoursPerMonth": "don't know",
        },
        {"name": "Route planning assistant", "dataSensitivity": "Internal", "cloudCostPerHourUSD": 12.5},
    ],
}


def test_answers_file_gives_a_valid_commented_file(run, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(ANSWERS, sort_keys=False), encoding="utf-8")
    out = tmp_path / "facts.ttl"
    result = run("init", "--answers", answers, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Next: infra-policy evaluate" in result.output
    text = out.read_text(encoding="utf-8")
    assert "# Which regulations govern this data?" in text  # each fact says what was asked
    assert "ip:regulatedBy ip:GDPR, ip:PCIDSS ;" in text
    assert "left out: ip:gpuHoursPerMonth" in text
    assert infra_policy.validate(out).workloads == ("Customer support chatbot", "Route planning assistant")
    # same answers, same bytes
    again = tmp_path / "again.ttl"
    assert run("init", "--answers", answers, "-o", again).exit_code == 0
    assert again.read_bytes() == out.read_bytes()
    evaluated = run("init", "--answers", answers, "-o", tmp_path / "third.ttl", "--evaluate")
    assert evaluated.output.count("Northwind Logistics: ") == 1


def test_answers_to_standard_output(run, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("organization:\n  name: Solo\n  connectivity: air-gapped\n", encoding="utf-8")
    result = run("init", "--answers", answers, "-o", "-")
    assert result.exit_code == 0
    assert "ip:connectivity ip:AirGapped ." in result.output
    assert infra_policy.evaluate(result.output).stance == "in-house"


def test_bad_answers_are_all_reported_with_their_lines_and_nothing_is_written(run, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        textwrap.dedent("""\
            organization:
              name: Northwind
              hasDataCentre: yes
              itStaffFTE: -2
            workloads:
              - name: Chatbot
                usersLocation: Mars
        """),
        encoding="utf-8",
    )
    out = tmp_path / "facts.ttl"
    result = run("init", "--answers", answers, "-o", out)
    assert result.exit_code == 2
    assert "3 problems in the answers" in result.output
    assert "line 3: organization: 'hasDataCentre' is not a question of infra-policy. Did you mean hasDataCenter?" in (
        result.output
    )
    assert "line 4: organization.itStaffFTE: -2 is too small; answer with a number ≥ 0 — or leave" in result.output
    assert "line 7: workloads[1].usersLocation: 'Mars' is not a choice" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_an_existing_file_is_kept_unless_forced(run, tmp_path):
    out = tmp_path / "facts.ttl"
    out.write_text("mine", encoding="utf-8")
    refused = run("init", "--template", "-o", out)
    assert refused.exit_code == 2 and "exists" in refused.output
    assert out.read_text() == "mine"
    assert run("init", "--template", "-o", out, "--force").exit_code == 0
    assert out.read_text() != "mine"


def test_template_lists_every_property_and_is_valid_as_it_is(run, tmp_path, kb):
    out = tmp_path / "template.ttl"
    assert run("init", "--template", "-o", out).exit_code == 0
    text = out.read_text(encoding="utf-8")
    for name, prop in kb.vocabulary.properties.items():
        if not prop.computed and name != "name":
            assert f"    # ip:{name} " in text, name
    for value in kb.vocabulary.individuals:
        assert f"ip:{value} — " in text or f"# ip:{value} " in text or f"ip:{value}," in text, value
    assert "If unsure: It needs the power, cooling and physical security of GPU servers" in text
    assert infra_policy.evaluate(out).organization == "My organization"
    # uncommenting any line keeps it valid
    filled = re.sub(r"^    # (ip:\w+ \S+ ;)$", r"    \1", text, flags=re.M)
    assert filled != text
    infra_policy.validate(filled)


def test_wording_is_only_given_for_properties_of_the_vocabulary(kb):
    wording = Graph().parse(PACKAGED_KB / "questions.ttl")
    annotated = {s for s in wording.subjects() if (s, Q.question, None) in wording or (s, Q.help, None) in wording}
    known = {prop.iri for prop in kb.vocabulary.properties.values() if not prop.computed}
    assert annotated and annotated <= known
    assert {str(o) for o in wording.objects(None, Q.section)} <= {"cost"}


def test_a_property_added_to_the_knowledge_base_is_asked_without_code_changes(run, tmp_path):
    kb_dir = tmp_path / "kb"
    shutil.copytree(PACKAGED_KB, kb_dir)
    with (kb_dir / "ontology.ttl").open("a", encoding="utf-8") as ontology:
        ontology.write(
            textwrap.dedent("""
            ip:ExampleAvailability a owl:Class ; rdfs:label "example availability"@en .
            ip:ExampleOpen a ip:ExampleAvailability, owl:NamedIndividual ;
                rdfs:label "example open"@en ; rdfs:comment "Can be downloaded."@en .
            ip:ExampleHosted a ip:ExampleAvailability, owl:NamedIndividual ;
                rdfs:label "example hosted"@en ; rdfs:comment "Only reachable as a service."@en .
            ip:exampleAvailability a owl:ObjectProperty, owl:FunctionalProperty ;
                rdfs:label "example availability"@en ;
                rdfs:comment "Whether the example model can be self-hosted."@en ;
                rdfs:domain ip:Workload ;
                rdfs:range ip:ExampleAvailability .
            """)
        )
    with (kb_dir / "shapes.ttl").open("a", encoding="utf-8") as shapes:
        shapes.write(
            textwrap.dedent("""
            ip:WorkloadShape sh:property ip:ExampleAvailabilityProperty .
            ip:OrganizationShape sh:property ip:ExampleAvailabilityProperty .
            ip:ExampleAvailabilityProperty a sh:PropertyShape ;
                sh:path ip:exampleAvailability ; sh:maxCount 1 ;
                sh:nodeKind sh:IRI ; sh:in ( ip:ExampleOpen ip:ExampleHosted ) .
            """)
        )
    questions = load_questions(load_knowledge_base(kb_dir))
    added = next(q for q in questions if q.name == "exampleAvailability")
    assert added.section == "workload" and added.text == "Example availability?"
    assert [c.name for c in added.choices] == ["ExampleHosted", "ExampleOpen"]
    template = run("init", "--template", "--kb", kb_dir, "-o", "-")
    assert "# ip:exampleAvailability ip:ExampleHosted ;" in template.output
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "organization: {name: Acme}\nworkloads:\n  - {name: Chat, exampleAvailability: example open}\n",
        encoding="utf-8",
    )
    result = run("init", "--answers", answers, "--kb", kb_dir, "-o", "-")
    assert result.exit_code == 0, result.output
    assert "ip:exampleAvailability ip:ExampleOpen ." in result.output


def test_a_knowledge_base_without_wording_is_asked_with_its_labels(tmp_path, kb):
    kb_dir = tmp_path / "kb"
    shutil.copytree(PACKAGED_KB, kb_dir)
    (kb_dir / "questions.ttl").unlink()
    questions = load_questions(load_knowledge_base(kb_dir))
    asked = {q.name for q in questions}
    assert asked == {name for name, prop in kb.vocabulary.properties.items() if not prop.computed} - {"name"}
    by_name = {q.name: q for q in questions}
    assert by_name["hasDataCenter"].text == "Has data center?" and by_name["hasDataCenter"].help == ""
    assert by_name["hasDataCenter"].section == "organization" and by_name["dataSensitivity"].section == "workload"
