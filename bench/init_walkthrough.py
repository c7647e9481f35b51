"""How long `infra-policy init` takes a person (run: python bench/init_walkthrough.py).

Drives the installed `infra-policy init` in a real pseudo-terminal through the first-contact scenario
of a 300-person logistics firm with two workloads (a customer support chatbot and a route planning
assistant): organization questions, both workloads, help looked up on the four questions people could
not answer from the docs (data center, IT staff, GPU-hours, users' location), several "don't know"
answers, no cost figures, and the evaluation at the end.

It counts what a person must read (every word the program prints before the decision, without the
terminal's echo of what they typed and the one-line confirmations) and type (every answer, Enter for
"don't know" included), and estimates the time as reading at 200 words a minute (below the usual
230–250 for adults reading plain text) plus 6 seconds to decide and type each answer, even a bare
Enter; and, typically, as reading at 238 words a minute with the thinking inside it, plus the typing
(3 s an answer, 1 s a bare Enter). The program's own wall time is printed beside it. Nothing here
asserts.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time

import pexpect

PROMPT = r"\n  > "
WORDS_PER_MINUTE = 200
SECONDS_PER_ANSWER = 6
# the second estimate: average silent reading speed, and only the typing on top of it
TYPICAL_WORDS_PER_MINUTE = 238
TYPING_SECONDS = 3
ENTER_SECONDS = 1

# question fragment → answers typed, in order ("?" asks for help first)
ORGANIZATION = {
    "server room or data center": ["?", "no"],
    "How many people could run GPU servers": ["?", "1.5"],
    "How much money": [""],
    "internet access": ["reliable"],
    "Where do the people who will use": ["distributed"],
}
CHATBOT = {
    "most sensitive data": ["confidential"],
    "Which regulations": ["gdpr"],
    "requests come from": ["?", "regional"],
    "How fast must an answer arrive": ["?", "2000"],
}
PLANNER = {
    "most sensitive data": ["internal"],
    "requests come from": ["on premises"],
    "load look like": ["steady"],
}


def main() -> None:
    program = shutil.which("infra-policy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    if program is None:
        sys.exit("install infra-policy first (pip install -e .)")
    with tempfile.TemporaryDirectory() as here:
        log: list[str] = []
        answers: list[str] = []

        class Transcript:
            def write(self, text: str) -> None:
                log.append(text)

            def flush(self) -> None:
                pass

        started = time.perf_counter()
        child = pexpect.spawn(program, ["init"], cwd=here, encoding="utf-8", timeout=60, dimensions=(40, 100))
        child.logfile_read = Transcript()

        def send(text: str) -> None:
            answers.append(text)
            child.sendline(text)

        def section(script: dict[str, list[str]], until: str) -> None:
            pending = {k: list(v) for k, v in script.items()}
            while True:
                found = child.expect([PROMPT, re.escape(until), "more questions about"])
                if found == 1:
                    return
                if found == 2:
                    send("")  # the first questions are enough; the result says what else matters
                    continue
                recent = "".join(log)[-1500:]
                question = recent[recent.rfind("\n[") :]
                key = next((k for k in pending if k in question and pending[k]), None)
                send(pending[key].pop(0) if key else "")

        child.expect_exact("Name of your organization")
        send("Northwind Logistics")
        section(ORGANIZATION, "Name of a workload")
        send("Customer support chatbot")
        section(CHATBOT, "Do you have cost figures")
        send("n")
        child.expect_exact("Name of workload 2")
        send("Route planning assistant")
        section(PLANNER, "Do you have cost figures")
        send("n")
        child.expect_exact("Name of workload 3")
        send("")
        child.expect_exact("Evaluate it now?")
        before_decision = "".join(log)
        send("y")
        child.expect(pexpect.EOF)
        elapsed = time.perf_counter() - started
    # what the program printed: not the terminal's echo of what was typed, nor the "→" confirmations
    shown = []
    for line in before_decision.replace("\r", "").split("\n"):
        if line.lstrip().startswith("→"):
            continue
        shown.append(line.split("  > ", 1)[0].rsplit(": ", 1)[0] if line.rstrip().endswith(tuple(answers)) else line)
    words = len(re.findall(r"[A-Za-z0-9'’]+", "\n".join(shown)))
    estimate = words / WORDS_PER_MINUTE * 60 + len(answers) * SECONDS_PER_ANSWER
    helps = answers.count("?")
    print(f"answers typed: {len(answers)} (help asked {helps} times; Enter for don't know: {answers.count('')})")
    print(f"words read before the decision: {words}")
    typed = len([a for a in answers if a])
    typical = words / TYPICAL_WORDS_PER_MINUTE * 60 + typed * TYPING_SECONDS + (len(answers) - typed) * ENTER_SECONDS
    print(
        f"estimated time for a person, conservative: {estimate / 60:.1f} min "
        f"({WORDS_PER_MINUTE} words/min reading + {SECONDS_PER_ANSWER} s per answer)"
    )
    print(
        f"estimated time for a person, typical: {typical / 60:.1f} min ({TYPICAL_WORDS_PER_MINUTE} words/min "
        f"reading, the thinking included, + {TYPING_SECONDS} s per typed answer, {ENTER_SECONDS} s per bare Enter)"
    )
    print(f"program wall time (scripted, no thinking): {elapsed:.1f} s")
    if "--show" in sys.argv:
        print(before_decision)


if __name__ == "__main__":
    main()
