"""Build the site in two passes, so memory does not grow with the number of decisions.

1. **Evaluate** every facts file (and read every record) — in worker processes,
   each result kept in the cache (:mod:`.cache`); the build itself keeps only a
   summary of each decision (names, stances, digests, where rules fired).
2. **Render** each decision's pages — in worker processes again, straight into
   the folder being built — from its cache entry, or copy them from the cache
   when the same decision under the same page name was rendered before.

Then the pages about all decisions (overview, rules, factors, histories,
search) are rendered from the summaries and the folder is swapped into place
(:mod:`.publish`).  With ``keep_going`` a facts file or record that fails is
left out and reported; without it the first failure stops the build and the
previous site stays.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from infra_policy.engine.errors import EngineError, InputError
from infra_policy.engine.files import read_bounded
from infra_policy.engine.records.record import MAX_RECORD_BYTES
from infra_policy.engine.stages.inputs import Limits, quiet_libraries

from .anchors import slugify
from .cache import Cache, key_of, sha256_hex
from .publish import Staging, site_path, write_site_file
from .records import (
    MALFORMED,
    Evaluated,
    RecordError,
    SiteDecision,
    check_document,
    evaluated,
    explanations,
    from_evaluation,
    malformed,
    record_from_bytes,
)
from .render import Extras, Listed, SiteRenderer, assign_slugs, slug_base, summary

STDIN_NAME = "stdin"
_EVALUATED_SECTIONS = ("summary", "meta", "files", "facts", "why_not", "explain")
# An evaluation's JSON and PROV-O twins are the very files its decision page publishes: its entry names
# them by digest among the cache's files instead of keeping a second copy (a third of what a build writes).
_TWIN_FILES = ("twin", "turtle", "jsonld")
# each twin as its decision page's file is named: the page's name and this suffix
_TWIN_SUFFIXES = {"twin": ".json", "turtle": ".prov.ttl", "jsonld": ".prov.jsonld"}
_RECORD_SECTIONS = ("summary", "meta", "twin", "turtle", "jsonld")


class BuildError(InputError):
    """A facts file or record failed and the build stopped (without keep_going)."""


@dataclass(frozen=True)
class Settings:
    """How each facts file is read and evaluated (everything a cache key must cover)."""

    rules: Path | None
    kb: Path | None
    strict: bool
    input_format: str | None
    limits: Limits
    engine_version: str
    explain: bool = False  # sufficient reasons and smallest changes on each decision page (costly)
    overlays: tuple[Path, ...] = ()  # policy overlay files applied to the rules


@dataclass
class Report:
    """What a build did: the counts a person (or a test) can check, and what failed."""

    decisions: int = 0
    files: int = 0
    evaluated: int = 0  # facts files evaluated (not found in the cache)
    evaluations_reused: int = 0
    records_read: int = 0
    rendered: int = 0  # decisions whose pages were rendered (not copied from the cache)
    pages_reused: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, error message)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (source, warning)


# Set before the workers fork; they inherit it (only small tasks and results cross between processes).
_STATE: dict = {}


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, EngineError) and not isinstance(exc, InputError):
        return f"the policy could not be evaluated: {exc}"
    return str(exc)


def _guarded(function: Callable, item):
    """Run one task; a bad input becomes its error message (unless debugging: then it is raised)."""
    try:
        with quiet_libraries():
            return function(item)
    except (InputError, EngineError) as exc:
        if _STATE["debug"]:
            raise
        return {"error": _error_text(exc)}


def _map(function: Callable, items: list, jobs: int) -> Iterator:
    """``function`` over ``items`` in order; with ``jobs`` > 1 in forked workers (they inherit _STATE)."""
    if jobs <= 1 or len(items) < 4 or _STATE["debug"]:
        for item in items:
            yield _guarded(function, item)
        return
    chunk = max(1, min(16, len(items) // (jobs * 8)))
    with multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_started) as pool:
        yield from pool.imap(_call_guarded, [(function, item) for item in items], chunksize=chunk)


def _call_guarded(pair):
    return _guarded(*pair)


def _worker_started() -> None:
    """In a worker: leave what it inherited (knowledge base, policy, templates) out of garbage collection,
    and collect less often. A decision makes hundreds of thousands of short-lived objects; the collector
    took about 15% of a worker's time, most of it walking the inherited objects, which live as long as
    the worker does."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


# --------------------------------------------------------------------------- pass 1: evaluate


def _facts_text(path: Path) -> tuple[str, Path]:
    from infra_policy.engine.stages.inputs import read_text_input
    from infra_policy.engine.stages.load import STDIN

    if str(path) == "-":
        return _STATE["stdin_text"], STDIN
    return read_text_input(path, _STATE["settings"].limits.max_bytes), path


def _evaluation_key(text: str, path: Path) -> str:
    from infra_policy.engine.stages.load import format_of

    settings: Settings = _STATE["settings"]
    fmt = settings.input_format.lower() if settings.input_format else None
    shown_format = (fmt or "turtle") if str(path) == "-" else format_of(path, fmt)
    return key_of(_STATE["salt"], "evaluation", text.encode("utf-8"), shown_format)


def _evaluate(path: Path, text: str, shown: Path) -> tuple[Evaluated, tuple[str, ...]]:
    import infra_policy
    from infra_policy.engine.stages.load import format_of, parse_facts

    settings: Settings = _STATE["settings"]
    fmt = settings.input_format.lower() if settings.input_format else None
    shown_format = (fmt or "turtle") if str(path) == "-" else format_of(path, fmt)
    document = parse_facts(text, shown, shown_format, settings.limits)
    decision = infra_policy.evaluate(
        document, rules=settings.rules, kb=settings.kb, strict=settings.strict, overlays=settings.overlays
    )
    evaluator = decision.evaluator
    result = from_evaluation(
        decision.evaluation, evaluator.policy, text, settings.engine_version, evaluator.kb.vocabulary
    )
    if settings.explain:
        found = explanations(decision.evaluation, evaluator.policy, evaluator.explorer, evaluator.kb.vocabulary)
        result = replace(result, explanations=found)
    return result, tuple(decision.warnings)


@dataclass(frozen=True)
class _Stored:
    """An evaluation as pass 1 kept it: the decision, its summary and the digests of its twins."""

    decision: SiteDecision
    summary: dict
    files: dict[str, str]  # "twin", "turtle", "jsonld" → digest among the cache's files


def _store_evaluation(key: str, result: Evaluated, warnings: tuple[str, ...]) -> _Stored:
    decision = evaluated(result, "")
    meta = {"warnings": list(warnings), "engine_version": result.engine_version}
    cache: Cache = _STATE["cache"]
    files = {name: cache.put_file(data) for name, data in zip(_TWIN_FILES, _twins(decision), strict=True)}
    found_summary = summary(result.data)
    cache.store(
        key,
        "evaluation",
        {
            "summary": _json_bytes(found_summary),
            "meta": _json_bytes(meta),
            "files": _json_bytes(files),
            "facts": result.facts_text.encode("utf-8"),
            "why_not": _json_bytes(result.why_not),
            "explain": _json_bytes(result.explanations),
        },
    )
    return _Stored(decision, found_summary, files)


def _twins(decision: SiteDecision) -> tuple[bytes, bytes, bytes]:
    return decision.twin, decision.turtle, decision.jsonld


def _twin_digests(raw: bytes) -> dict[str, str]:
    """The digests an evaluation entry names its twins by (ValueError unless it names exactly those)."""
    files = json.loads(raw)
    if not isinstance(files, dict) or set(files) != set(_TWIN_FILES):
        raise ValueError("files")
    if not all(isinstance(v, str) and len(v) == 64 for v in files.values()):
        raise ValueError("digest")
    return files


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _checked_summary(raw: bytes) -> dict:
    """A summary from the cache, refused (ValueError) unless it has the shape :func:`summary` gives."""
    data = json.loads(raw)
    org = data["organization"]
    strings = [org["id"], org["name"], org["stance"]]
    for w in data["workloads"]:
        strings += [w["id"], w["name"], w["stance"]]
        if not isinstance(w["implicit"], bool):
            raise ValueError("implicit")
    strings += list(data["inputs"].keys()) + list(data["inputs"].values())
    for entry in data["fired"]:
        if len(entry) != 3:
            raise ValueError("fired")
        strings += entry
    if not all(isinstance(s, str) for s in strings) or not data["workloads"]:
        raise ValueError("not a summary")
    return data


def _evaluate_task(index: int) -> dict:
    """Pass 1 for one facts file: its summary, from the cache or from a fresh evaluation."""
    path = _STATE["facts"][index]
    text, shown = _facts_text(path)
    key = _evaluation_key(text, path)
    found = _STATE["cache"].load(key, "evaluation", ("summary", "meta", "files"))
    if found is not None:
        try:
            meta = json.loads(found["meta"])
            warnings = tuple(str(w) for w in meta["warnings"])
            if _STATE["settings"].strict and warnings:
                raise ValueError("strict")  # evaluate again: --strict turns these warnings into the error
            return {
                "key": key,
                "summary": _checked_summary(found["summary"]),
                # a file's digest is the SHA-256 of its bytes (pass 2 checks them before use)
                "twin_sha": _twin_digests(found["files"])["twin"],
                "warnings": warnings,
                "cached": True,
            }
        except (ValueError, TypeError, KeyError, AttributeError):
            pass  # not an entry this build wrote: evaluate again
    result, warnings = _evaluate(path, text, shown)
    stored = _store_evaluation(key, result, warnings)
    return {
        "key": key,
        "summary": stored.summary,
        "twin_sha": stored.files["twin"],
        "warnings": warnings,
        "cached": False,
        "prerendered": _prerender(index, key, stored),
    }


def _prerender(index: int, key: str, stored: _Stored) -> str | None:
    """Render a decision just evaluated, while it is in memory, under the page name it almost always gets
    (its own, with nothing else of the site on its page), and keep the pages in the cache; pass 2 then only
    links them. Return the page key they are kept under (pass 2 renders again if its task has another), or
    None when an earlier build left pages under that key (pass 2 uses them as usual)."""
    from .records import justification_graph
    from .render import _Published

    source = _STATE["sources"][index]
    task = _Page("evaluated", index, key, slug_base(stored.summary), source, Extras())
    page_key = _page_key(task)
    if _STATE["cache"].load(page_key, "pages", ("files",)) is not None:
        return None
    decision = stored.decision
    rendered = _STATE["renderer"].decision_pages(
        _Published(replace(decision, source=source), task.slug, justification_graph(decision.data), task.extras)
    )
    # the twins the page publishes are the files the evaluation was just stored with
    twins = dict(zip(_TWIN_FILES, _twins(decision), strict=True))
    kept = {
        f"decisions/{task.slug}{suffix}": (twins[name], stored.files[name]) for name, suffix in _TWIN_SUFFIXES.items()
    }
    _store_pages(page_key, dict(rendered), kept)
    return page_key


def _store_pages(
    page_key: str, rendered: dict[str, bytes], kept: dict[str, tuple[bytes, str]] | None = None
) -> dict[str, str]:
    """Keep a decision's files in the cache and list them under ``page_key``; return their digests.
    ``kept``: files already in the cache (the bytes and their digest), not hashed and stored again."""
    cache: Cache = _STATE["cache"]
    kept = kept or {}
    digests = {}
    for relative, data in rendered.items():
        known = kept.get(relative)
        digests[relative] = known[1] if known is not None and known[0] is data else cache.put_file(data)
    cache.store(page_key, "pages", {"files": _json_bytes(digests)})
    return digests


def _record_key(raw: bytes) -> str:
    return key_of(_STATE["salt"], "record", raw)


def _read_record_fresh(path: Path, raw: bytes, key: str) -> SiteDecision:
    """Read and check a record, render it once on its own (so a malformed one is refused naming its file,
    not half-way through the site), and keep what the site needs of it in the cache."""
    decision = record_from_bytes(raw, path)
    renderer: SiteRenderer = _STATE["renderer"]
    try:
        for _ in renderer.render([decision]):
            pass
        turtle, jsonld = decision.rdf_twins()
    except MALFORMED as exc:
        raise malformed(path, exc) from exc
    meta = {"engine_version": decision.engine_version, "record_id": decision.record_id}
    _STATE["cache"].store(
        key,
        "record",
        {
            "summary": _json_bytes(summary(decision.data)),
            "meta": _json_bytes(meta),
            "twin": raw,
            "turtle": turtle,
            "jsonld": jsonld,
        },
    )
    return replace(decision, turtle=turtle, jsonld=jsonld)


def _record_task(index: int) -> dict:
    path = _STATE["records"][index]
    raw = read_bounded(path, MAX_RECORD_BYTES, RecordError, "recorded decision")
    key = _record_key(raw)
    found = _STATE["cache"].load(key, "record", ("summary", "meta"))
    try:
        if found is None:
            raise ValueError("not cached")
        meta = json.loads(found["meta"])
        record_id = meta["record_id"]
        if record_id is not None and not isinstance(record_id, str):
            raise ValueError("record id")
        return {
            "key": key,
            "summary": _checked_summary(found["summary"]),
            "record_id": record_id,
            "twin_sha": sha256_hex(raw),
            "mtime": os.stat(path).st_mtime_ns,
            "cached": True,
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        decision = _read_record_fresh(path, raw, key)
        return {
            "key": key,
            "summary": summary(decision.data),
            "record_id": decision.record_id,
            "twin_sha": sha256_hex(raw),
            "mtime": os.stat(path).st_mtime_ns,
            "cached": False,
        }


# --------------------------------------------------------------------------- pass 2: render


@dataclass(frozen=True)
class _Page:
    """Pass 2's task for one decision."""

    origin: str  # "evaluated" | "recorded"
    index: int  # into the facts files or the record files
    key: str
    slug: str
    source: str
    extras: Extras
    record_key: str | None = None  # the record shown with an evaluated decision


def _decision_from_entry(task: _Page) -> SiteDecision | None:
    """The decision as it was cached, checked like a record; None if the entry is missing or not right."""
    cache: Cache = _STATE["cache"]
    if task.origin == "recorded":
        found = cache.load(task.key, "record", _RECORD_SECTIONS)
        if found is None:
            return None
        try:
            decision = record_from_bytes(found["twin"], Path(task.source))
        except RecordError:
            return None
        return replace(decision, turtle=found["turtle"], jsonld=found["jsonld"])
    found = cache.load(task.key, "evaluation", _EVALUATED_SECTIONS)
    if found is None:
        return None
    try:
        for name, digest in _twin_digests(found["files"]).items():
            twin = cache.get_file(digest)
            if twin is None:
                return None
            found[name] = twin
        data = json.loads(found["twin"])
        check_document(data, Path(task.source))
        why_not = json.loads(found["why_not"])
        meta = json.loads(found["meta"])
        explained = json.loads(found["explain"])
        if not isinstance(why_not, dict) or not isinstance(meta.get("engine_version"), str):
            return None
        if not isinstance(explained, dict | None):
            return None
        return SiteDecision(
            data=data,
            twin=found["twin"],
            source=task.source,
            origin="evaluated",
            facts_text=found["facts"].decode("utf-8"),
            engine_version=meta["engine_version"],
            why_not=why_not,
            turtle=found["turtle"],
            jsonld=found["jsonld"],
            explanations=explained,
        )
    except (ValueError, TypeError, KeyError, AttributeError, RecordError, UnicodeDecodeError):
        return None


def _fresh_decision(task: _Page) -> SiteDecision:
    """The decision computed again from its input (the cache entry was missing or not right)."""
    if task.origin == "recorded":
        path = _STATE["records"][task.index]
        raw = read_bounded(path, MAX_RECORD_BYTES, RecordError, "recorded decision")
        return replace(_read_record_fresh(path, raw, _record_key(raw)), source=task.source)
    path = _STATE["facts"][task.index]
    text, shown = _facts_text(path)
    result, warnings = _evaluate(path, text, shown)
    return replace(_store_evaluation(_evaluation_key(text, path), result, warnings).decision, source=task.source)


def _page_key(task: _Page) -> str:
    extras = json.dumps(
        {"record": task.extras.record, "history": task.extras.history, "records": task.extras.records},
        sort_keys=True,
    )
    return key_of(_STATE["salt"], "pages", task.key.encode("ascii"), task.slug, task.source, task.origin, extras)


def _render_task(task: _Page) -> dict:
    """Pass 2 for one decision: write its pages into the folder being built; return their names."""
    from .records import justification_graph
    from .render import _Published

    cache: Cache = _STATE["cache"]
    folder: Path = _STATE["folder"]
    page_key = _page_key(task)
    base = f"decisions/{task.slug}"
    expected = {f"{base}{suffix}" for suffix in (".html", *_TWIN_SUFFIXES.values(), ".facts.html")}
    if task.record_key is not None:
        expected.add(f"decisions/{task.extras.record['file']}")
    found = cache.load(page_key, "pages", ("files",))
    listed: dict[str, str] | None = None
    if found is not None:
        try:
            listed = json.loads(found["files"])
            # exactly this decision's files: an entry never names another page of the site
            if set(listed) != expected or not all(isinstance(v, str) for v in listed.values()):
                listed = None
        except (ValueError, AttributeError):
            listed = None
    if listed is not None and _link_all(cache, folder, listed):
        return {"files": sorted(listed), "reused": True}
    renderer: SiteRenderer = _STATE["renderer"]
    decision = _decision_from_entry(task)
    rendered = None
    if decision is not None:
        try:
            graph = justification_graph(decision.data)
            rendered = dict(renderer.decision_pages(_Published(decision, task.slug, graph, task.extras)))
        except MALFORMED:
            rendered = None  # a planted or damaged entry: compute it again from the input
    if rendered is None:
        decision = _fresh_decision(task)
        graph = justification_graph(decision.data)
        rendered = dict(renderer.decision_pages(_Published(decision, task.slug, graph, task.extras)))
    if task.record_key is not None:
        record = cache.load(task.record_key, "record", ("twin",))
        if record is None:
            path = _STATE["records"][task.extras.record["index"]]
            record = {"twin": read_bounded(path, MAX_RECORD_BYTES, RecordError, "recorded decision")}
        rendered[f"decisions/{task.extras.record['file']}"] = record["twin"]
    digests = _store_pages(page_key, rendered)
    for relative, data in rendered.items():
        if not cache.link_file(digests[relative], site_path(folder, relative)):
            # the stored file was missing or damaged: store it again, and publish these bytes in any case
            cache.put_file(data, replace=True)
            write_site_file(folder, relative, data)
    return {"files": sorted(rendered), "reused": False}


def _link_all(cache: Cache, folder: Path, listed: dict[str, str]) -> bool:
    """Link every file a cached page entry lists into the site; False (and nothing left) if one is missing."""
    done = []
    for relative, digest in listed.items():
        target = site_path(folder, relative)
        if not cache.link_file(digest, target):
            for written in done:
                written.unlink(missing_ok=True)
            return False
        done.append(target)
    return True


# --------------------------------------------------------------------------- the build


def read_log_order(log_file: Path) -> dict[str, tuple[int, str]]:
    """Record id → (sequence number, time logged) from a decision log whose chain verifies."""
    from infra_policy.engine.records.record import MAX_LOG_BYTES, verify_log
    from infra_policy.engine.stages.inputs import read_text_input

    text = read_text_input(
        log_file,
        MAX_LOG_BYTES,
        what="decision log",
        example="decisions.jsonl",
        text_kind="JSON Lines",
        error=RecordError,
    )
    _, problems = verify_log(text)
    if problems:
        raise RecordError(
            f"{log_file}: the decision log does not verify ({problems[0].message}), so it cannot order the "
            f"history of the records; run `infra-policy audit --log {log_file}` and publish with an intact log."
        )
    order = {}
    for line in text.splitlines():
        entry = json.loads(line)
        if isinstance(entry.get("record"), str):
            order.setdefault(entry["record"], (entry["seq"], str(entry.get("logged_at", ""))))
    return order


def build_site(
    facts: list[Path],
    record_files: list[Path],
    out: Path,
    *,
    settings: Settings,
    evaluator,
    cache: Cache,
    salt: str,
    jobs: int,
    keep_going: bool,
    debug: bool = False,
    stdin_text: str | None = None,
    log_order: dict[str, tuple[int, str]] | None = None,
    log_name: str = "",
    progress: Callable[[str, int, int, str], None] = lambda phase, done, total, name: None,
) -> Report:
    """Evaluate, render and publish; see the module's docstring."""
    renderer = SiteRenderer(evaluator.kb, evaluator.policy)
    report = Report()
    with Staging(out) as staging:
        _STATE.clear()
        _STATE.update(
            facts=facts,
            records=record_files,
            settings=settings,
            cache=cache,
            salt=salt,
            renderer=renderer,
            folder=staging.folder,
            stdin_text=stdin_text,
            debug=debug,
        )
        # -- pass 1
        sources = [STDIN_NAME if str(p) == "-" else p.name for p in facts]
        _STATE["sources"] = sources
        total = len(facts) + len(record_files)
        evaluated_items: list[tuple[int, dict]] = []
        done = 0
        for index, result in enumerate(_map(_evaluate_task, list(range(len(facts))), jobs)):
            done += 1
            progress("evaluate", done, total, sources[index])
            if not _accept(result, sources[index], keep_going, report):
                continue
            report.warnings += [(sources[index], w) for w in result["warnings"]]
            report.evaluated += not result["cached"]
            report.evaluations_reused += bool(result["cached"])
            evaluated_items.append((index, result))
        recorded_items: list[tuple[int, dict]] = []
        for index, result in enumerate(_map(_record_task, list(range(len(record_files))), jobs)):
            done += 1
            progress("evaluate", done, total, record_files[index].name)
            if not _accept(result, record_files[index].name, keep_going, report):
                continue
            report.records_read += not result["cached"]
            recorded_items.append((index, result))

        # -- what is published, under which names
        tasks, listed, histories = _plan(evaluated_items, recorded_items, sources, record_files, log_order, log_name)
        report.decisions = len(listed)

        # -- pass 2 (pages rendered in pass 1 under the name they got are only linked into place)
        prerendered = {result["prerendered"] for _, result in evaluated_items if result.get("prerendered")}
        for done, result in enumerate(_map(_render_task, tasks, jobs), start=1):
            task = tasks[done - 1]
            progress("render", done, len(tasks), task.source)
            if "error" in result:
                raise BuildError(result["error"])
            for relative in result["files"]:
                staging.claim(relative)
            fresh = not result["reused"] or (task.origin == "evaluated" and _page_key(task) in prerendered)
            report.rendered += fresh
            report.pages_reused += not fresh
        for history in histories:
            _diffs(history, renderer, cache)
        for relative, data in renderer.site_pages(listed, histories):
            staging.write(relative, data)
        report.files = staging.commit()
    return report


def _accept(result: dict, source: str, keep_going: bool, report: Report) -> bool:
    if "error" not in result:
        return True
    if not keep_going:
        raise BuildError(result["error"])
    report.failed.append((source, result["error"]))
    return False


def _plan(
    evaluated_items: list[tuple[int, dict]],
    recorded_items: list[tuple[int, dict]],
    sources: list[str],
    record_files: list[Path],
    log_order: dict[str, tuple[int, str]] | None,
    log_name: str,
) -> tuple[list[_Page], list[Listed], list[dict]]:
    """Page names, the evaluated decisions that were also recorded (shown once), and the histories."""

    def same_inputs(result: dict) -> tuple[str, str, str] | None:
        inputs = result["summary"]["inputs"]
        found = tuple(inputs.get(k, "") for k in ("facts", "kb", "rules"))
        return found if all(found) else None

    by_inputs: dict[tuple[str, str, str], int] = {}
    for position, (_, result) in enumerate(evaluated_items):
        if (found := same_inputs(result)) is not None:
            by_inputs.setdefault(found, position)
    shown_with: dict[int, tuple[int, dict]] = {}  # evaluated position → the record shown with it
    published_records = []
    record_position: dict[int, int | None] = {}  # record index → evaluated position it merged into
    for index, result in sorted(recorded_items, key=lambda item: record_files[item[0]].name):
        found = same_inputs(result)
        if found is not None and found in by_inputs:
            position = by_inputs[found]
            shown_with.setdefault(position, (index, result))
            record_position[index] = position
        else:
            published_records.append((index, result))
            record_position[index] = None

    entries = [("evaluated", index, result, sources[index]) for index, result in evaluated_items] + [
        ("recorded", index, result, record_files[index].name) for index, result in published_records
    ]
    slugs = assign_slugs(
        [(slug_base(result["summary"]), origin, source, result["twin_sha"]) for origin, _, result, source in entries]
    )
    slug_of_evaluated = {position: slugs[position] for position in range(len(evaluated_items))}
    slug_of_record = {index: slugs[len(evaluated_items) + n] for n, (index, _) in enumerate(published_records)}

    # histories: the records of one organization, when there are several
    groups: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for index, result in recorded_items:
        groups[result["summary"]["organization"]["id"] or result["summary"]["organization"]["name"]].append(
            (index, result)
        )
    histories = []
    history_of: dict[str, tuple[str, int]] = {}
    for org, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        name = members[0][1]["summary"]["organization"]["name"]
        page = f"history/{slugify(name)}-{sha256_hex(org.encode('utf-8'))[:8]}.html"
        if log_order is not None:
            members.sort(
                key=lambda m: (log_order.get(m[1]["record_id"] or "", (1 << 62, ""))[0], record_files[m[0]].name)
            )
        else:
            members.sort(key=lambda m: (m[1]["mtime"], record_files[m[0]].name))
        entries_of = []
        for index, result in members:
            position = record_position[index]
            slug = slug_of_evaluated[position] if position is not None else slug_of_record[index]
            seq, logged_at = (log_order or {}).get(result["record_id"] or "", (None, ""))
            entries_of.append(
                {
                    "key": result["key"],
                    "slug": slug,
                    "stance": result["summary"]["organization"]["stance"],
                    "record_id": result["record_id"] or "",
                    "source": record_files[index].name,
                    "seq": seq,
                    "logged_at": logged_at,
                    "placement": [
                        ("Whole organization" if w["implicit"] else w["name"], w["stance"])
                        for w in result["summary"]["workloads"]
                    ],
                    "diff": None,
                }
            )
        histories.append(
            {
                "page": page,
                "name": name,
                "ordered_by": "log" if log_order is not None else "files",
                "log": log_name,
                "entries": entries_of,
            }
        )
        history_of[org] = (page, len(members))

    def extras_for(result: dict, record: tuple[int, dict] | None, slug: str) -> Extras:
        org = result["summary"]["organization"]
        page, count = history_of.get(org["id"] or org["name"], (None, 0))
        if record is not None:
            page, count = history_of.get(
                record[1]["summary"]["organization"]["id"] or record[1]["summary"]["organization"]["name"],
                (page, count),
            )
        shown = None
        if record is not None:
            shown = {
                "id": record[1]["record_id"] or "",
                "source": record_files[record[0]].name,
                "file": f"{slug}.record.json",
                "index": record[0],
            }
        return Extras(record=shown, history=page, records=count)

    tasks, listed = [], []
    for n, (origin, index, result, source) in enumerate(entries):
        record = shown_with.get(n) if origin == "evaluated" else None
        extras = extras_for(result, record, slugs[n])
        tasks.append(
            _Page(origin, index, result["key"], slugs[n], source, extras, record[1]["key"] if record else None)
        )
        listed.append(Listed(result["summary"], slugs[n], source, origin, extras))
    return tasks, listed, histories


def _diffs(history: dict, renderer: SiteRenderer, cache: Cache) -> None:
    """Fill in what changed between consecutive records (each record's document is read once)."""
    previous = None
    for entry in history["entries"]:
        found = cache.load(entry["key"], "record", ("twin",))
        data = None
        if found is not None:
            try:
                document = json.loads(found["twin"])
                data = (
                    document.get("decision", document)
                    if document.get("format") != "infra-policy/decision@1"
                    else document
                )
                check_document(data, Path(entry["source"]))
            except (ValueError, TypeError, KeyError, AttributeError, RecordError):
                data = None
        if data is not None and previous is not None:
            try:
                entry["diff"] = renderer.history_diff(previous, data)
            except MALFORMED:
                entry["diff"] = None
        previous = data
