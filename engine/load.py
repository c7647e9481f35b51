"""Stage 1 — load: parse a facts file and the knowledge base with rdflib.

Only formats that cannot reach out of the file are accepted (Turtle, N-Triples,
N-Quads, TriG, JSON-LD whose context is inline).  For Turtle we also remember the
line each triple was read from, so explanations can point into the file.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph
from rdflib.term import Node

from .errors import FactsError, KnowledgeBaseError

Triple = tuple[Node, Node, Node]

# Extension → rdflib parser name.  Anything else is refused rather than guessed.
FORMATS: dict[str, str] = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "nt",
    ".nq": "nquads",
    ".trig": "trig",
    ".jsonld": "json-ld",
    ".json-ld": "json-ld",
}


@dataclass(frozen=True)
class FactsDocument:
    """A parsed facts file: the graph, where it came from, and triple lines."""

    path: Path
    graph: Graph
    lines: dict[Triple, int] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, triple: Triple) -> int | None:
        return self.lines.get(triple)


def _quiet_rdflib() -> None:
    # rdflib logs parse warnings itself; our errors already say everything.
    logging.getLogger("rdflib").setLevel(logging.CRITICAL)


def detect_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        allowed = ", ".join(sorted(FORMATS))
        raise FactsError(
            f"{path}: cannot tell the RDF format from the extension "
            f"'{path.suffix or '(none)'}'. Allowed extensions: {allowed}."
        )
    return fmt


def _read_text(path: Path) -> str:
    if not path.exists():
        raise FactsError(f"{path}: no such file.")
    if path.is_dir():
        raise FactsError(f"{path}: is a directory; give the path of a facts file (for example facts.ttl).")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FactsError(f"{path}: cannot be read ({exc.strerror}).") from exc
    if b"\x00" in data[:8192]:
        raise FactsError(f"{path}: looks like a binary file, not RDF text (it contains NUL bytes).")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FactsError(f"{path}: is not valid UTF-8 (byte {exc.start}); RDF text files must be UTF-8.") from exc


def _parse_turtle_with_lines(text: str, path: Path) -> tuple[Graph, dict[Triple, int]]:
    # rdflib's Turtle parser keeps a line counter; a sink that reads it as each
    # triple is made gives us the line of every fact at no extra parsing cost.
    from rdflib.plugins.parsers.notation3 import RDFSink, SinkParser

    graph = Graph()
    lines: dict[Triple, int] = {}

    class LineRecordingSink(RDFSink):
        parser: SinkParser | None = None

        def makeStatement(self, quadruple, why=None):  # noqa: N802 (rdflib's name)
            formula, p, s, o = quadruple
            if formula == self.rootFormula and self.parser is not None:
                key = (self.normalise(formula, s), self.normalise(formula, p), self.normalise(formula, o))
                lines.setdefault(key, self.parser.lines + 1)
            super().makeStatement(quadruple, why)

    sink = LineRecordingSink(graph)
    parser = SinkParser(sink, baseURI=path.resolve().as_uri(), turtle=True)
    sink.parser = parser
    parser.loadBuf(text)
    for prefix, namespace in parser._bindings.items():
        graph.bind(prefix, namespace)
    return graph, lines


def _syntax_error(path: Path, text: str, exc: Exception) -> FactsError:
    line_index = getattr(exc, "lines", None)
    why = getattr(exc, "_why", None) or str(exc).strip().splitlines()[0]
    if not isinstance(line_index, int):
        return FactsError(f"{path}: not valid RDF — {why}.")
    source_lines = text.splitlines()
    offending = source_lines[line_index] if 0 <= line_index < len(source_lines) else ""
    where = f"{path}, line {line_index + 1}"
    position = getattr(exc, "_i", None)
    if isinstance(position, int):
        where += f", column {position - (text.rfind(chr(10), 0, position) + 1) + 1}"
    return FactsError(
        f"{where}: not valid Turtle — {why}.\n    {offending.strip()}\n"
        "Check the punctuation of the statement (each ends with '.', ';' separates "
        "properties, ',' separates values) and that every prefix is declared."
    )


def _remote_contexts(node) -> list[str]:
    """Context references in a JSON-LD document that would have to be fetched."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("@context", "@import"):
                refs = value if isinstance(value, list) else [value]
                found += [ref for ref in refs if isinstance(ref, str)]
            found += _remote_contexts(value)
    elif isinstance(node, list):
        for item in node:
            found += _remote_contexts(item)
    return found


def _check_jsonld(text: str, path: Path) -> None:
    import json

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FactsError(f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON — {exc.msg}.") from exc
    remote = _remote_contexts(document)
    if remote:
        raise FactsError(
            f"{path}: refers to the JSON-LD context {remote[0]!r}, which would have to be fetched; "
            "infra-policy never fetches anything. Put the context inline in the file."
        )


def load_facts(path: str | Path) -> FactsDocument:
    """Parse a facts file; raise :class:`FactsError` with a readable message."""
    _quiet_rdflib()
    path = Path(path)
    text = _read_text(path)
    fmt = detect_format(path)
    if not text.strip():
        raise FactsError(
            f"{path}: the file is empty. Describe one ip:Organization (see examples/ or the README) and run again."
        )
    if fmt == "json-ld":
        _check_jsonld(text, path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # rdflib's deprecation chatter is not the user's concern
            if fmt == "turtle":
                graph, lines = _parse_turtle_with_lines(text, path)
            else:
                graph, lines = Graph(), {}
                graph.parse(data=text, format=fmt, publicID=path.resolve().as_uri())
    except Exception as exc:  # rdflib raises many unrelated types for bad syntax
        raise _syntax_error(path, text, exc) from exc
    if len(graph) == 0:
        raise FactsError(
            f"{path}: contains no RDF statements (only comments or prefixes). Describe one "
            "ip:Organization (see examples/ or the README) and run again."
        )
    return FactsDocument(path=path, graph=graph, lines=lines)


def load_kb_graph(directory: Path, names: tuple[str, ...]) -> Graph:
    """Parse the named Turtle files of a knowledge base into one graph."""
    _quiet_rdflib()
    graph = Graph()
    for name in names:
        file = directory / name
        try:
            graph.parse(file, format="turtle")
        except FileNotFoundError as exc:
            raise KnowledgeBaseError(f"{file}: the knowledge base file is missing.") from exc
        except Exception as exc:
            raise KnowledgeBaseError(f"{file}: not valid Turtle — {exc}") from exc
    return graph
