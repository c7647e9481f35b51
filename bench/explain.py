"""Benchmark of sufficient reasons and smallest changes (run: python bench/explain.py).

For every example and workload: the time of one sufficient reason
(`explain --sufficient`), of every minimal sufficient reason up to the bound
(`explain --sufficient --all`: at most 8 sets and 24 deletion searches), and of
the smallest changes toward each other stance of cloud / hybrid / in-house with
K = 3 (`explain --contrast STANCE`). Target: at most 1 s per workload for one
sufficient reason and for the smallest changes (`--all` has no target: it is
bounded instead, and says when it stops at the bound). Prints the worst and the median, whether
each sufficient reason was checked on every combination, and whether a
contrast search ran out of its evaluation budget. Nothing here asserts.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    import infra_policy
    from infra_policy.engine.analysis.abduce import contrast, sufficient_reason, sufficient_reasons

    sufficient_times, contrast_times, every_times = [], [], []
    exhaustive = budget_out = bounded = 0
    rows = []
    for path in sorted((REPO / "examples").glob("*.ttl")):
        decision = infra_policy.evaluate(path)
        ev = decision.evaluator
        for w in decision.evaluation.decision.workloads:
            start = time.process_time()
            reason = sufficient_reason(w, ev.policy, ev.explorer, ev.kb.vocabulary)
            sufficient_times.append(time.process_time() - start)
            exhaustive += reason.exhaustive
            start = time.process_time()
            every = sufficient_reasons(w, ev.policy, ev.explorer, ev.kb.vocabulary)
            every_times.append(time.process_time() - start)
            bounded += not every[0].all_found
            for target in ("cloud", "hybrid", "in-house"):
                if target == w.stance:
                    continue
                start = time.process_time()
                found = contrast(w, ev.policy, ev.explorer, ev.kb.vocabulary, target, max_changes=3)
                contrast_times.append(time.process_time() - start)
                budget_out += not found.complete
            rows.append((path.stem, w.profile.name, len(reason.facts), len(reason.facts) + len(reason.irrelevant)))
    for stem, name, kept, stated in rows:
        print(f"{stem:32} {name[:28]:28} decided by {kept} of {stated} stated facts")
    print()
    print(
        f"sufficient reason: {len(sufficient_times)} workloads, median {statistics.median(sufficient_times):.3f} s, "
        f"worst {max(sufficient_times):.3f} s; every combination checked for {exhaustive}"
    )
    print(
        f"every sufficient reason (--all): median {statistics.median(every_times):.3f} s, "
        f"worst {max(every_times):.3f} s; stopped at the bound for {bounded} of {len(every_times)} workloads"
    )
    print(
        f"smallest changes (K = 3): {len(contrast_times)} searches, median {statistics.median(contrast_times):.3f} s, "
        f"worst {max(contrast_times):.3f} s; {budget_out} stopped at the evaluation budget"
    )


if __name__ == "__main__":
    sys.exit(main())
