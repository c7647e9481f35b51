"""Stage 1 — load: parse a facts file and the knowledge base with rdflib, safely.

Only formats that cannot reach out of the file are accepted: Turtle, N-Triples,
N-Quads, TriG, JSON-LD whose context is inline, and RDF/XML without a document
type declaration (so no entity, internal or external, can be expanded and no
DTD fetched).  Nothing is ever read from the network or from another file.
Files and graphs are bounded (:class:`Limits`) so a huge or hostile file is
refused with a message instead of exhausting memory.  For Turtle we also
remember the line each triple was read from, so explanations can point into
the file.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.term import Node

from infra_policy.engine.errors import FactsError, KnowledgeBaseError
from infra_policy.engine.stages.inputs import (
    DEFAULT_LIMITS,
    EXTENSIONS,
    INPUT_FORMATS,
    LARGEST_NUMBER,
    Limits,
    read_text_input,
)

# Kept for callers that map extensions straight to rdflib parser names.
FORMATS: dict[str, str] = {ext: INPUT_FORMATS[name][0] for ext, name in EXTENSIONS.items()}


def _quiet_rdflib() -> None:
    # rdflib logs parse warnings itself (with tracebacks, for ill-typed
    # literals); our errors already say everything.
    logging.getLogger("rdflib").setLevel(logging.CRITICAL)


Triple = tuple[Node, Node, Node]


@dataclass(frozen=True)
class Assumption:
    """A fact assumed on top of the facts file (`--set`), never to be taken for a stated one."""

    subject: str  # IRI of the organization or workload
    subject_name: str
    property: str  # the vocabulary term, e.g. "itStaffFTE"
    value: str  # as written after ``=``
    replaces: tuple[str, ...] = ()  # what the file stated for it on that subject (empty: nothing)

    def to_dict(self) -> dict:
        return {
            "subject": self.subject,
            "name": self.subject_name,
            "property": self.property,
            "value": self.value,
            "replaces": list(self.replaces),
        }


@dataclass(frozen=True)
class FactsDocument:
    """A parsed facts file: the graph, where it came from, and triple lines."""

    path: Path
    graph: Graph
    lines: dict[Triple, int] = field(default_factory=dict, compare=False, repr=False)
    # the file's text as read (the site shows it; reading the file again could give other bytes)
    text: str = field(default="", compare=False, repr=False)
    # facts assumed on top of the file (`--set`): what was assumed, the (subject, property IRI) pairs
    # they replace in ``graph``, and the graph as the file states it (the facts digest is of that one)
    assumptions: tuple[Assumption, ...] = field(default=(), compare=False, repr=False)
    assumed_keys: frozenset[tuple[Node, Node]] = field(default=frozenset(), compare=False, repr=False)
    stated_graph: Graph | None = field(default=None, compare=False, repr=False)

    def line_of(self, triple: Triple) -> int | None:
        return self.lines.get(triple)

    def is_assumed(self, triple: Triple) -> bool:
        """Whether this triple was assumed (`--set`) rather than stated in the file."""
        return bool(self.assumed_keys) and (triple[0], triple[1]) in self.assumed_keys


def format_of(path: Path, input_format: str | None = None) -> str:
    """The format name of a facts file: ``input_format`` if given, else from the extension."""
    if input_format is not None:
        if input_format not in INPUT_FORMATS:
            raise FactsError(f"unknown input format '{input_format}'. Allowed formats: {', '.join(INPUT_FORMATS)}.")
        return input_format
    name = EXTENSIONS.get(path.suffix.lower())
    if name is None:
        allowed = ", ".join(sorted(EXTENSIONS))
        raise FactsError(
            f"{path}: cannot tell the RDF format from the extension "
            f"'{path.suffix or '(none)'}'. Allowed extensions: {allowed}; or name the format "
            f"with --input-format ({', '.join(INPUT_FORMATS)})."
        )
    if path.is_symlink():
        # The extension vouches for what the file is; through a link it must vouch for the
        # file actually read, or `facts.ttl -> notes.txt` would echo a line of any readable
        # file in a syntax error.
        target = path.resolve()
        if EXTENSIONS.get(target.suffix.lower()) != name:
            raise FactsError(
                f"{path}: is a link to {target.name}, and '{target.suffix or '(none)'}' is not an extension of "
                f"{INPUT_FORMATS[name][1]} files. The file actually read must say what it is: link to a file with "
                f"a facts extension, or name the format with --input-format ({', '.join(INPUT_FORMATS)})."
            )
    return name


def detect_format(path: Path) -> str:
    """The rdflib parser name for a path, from its extension."""
    return INPUT_FORMATS[format_of(path)][0]


# Relative IRIs in a facts file (<chat>, <#acme>) are resolved against this
# base, never against where the file happens to be: the machine's folders must
# not reach a decision, a record id or the site, and moving a file must not
# change its digest.
RELATIVE_BASE = "https://relative.infra-policy.invalid/"


def _base(path: Path) -> str:
    return RELATIVE_BASE


def _read_text(path: Path, limits: Limits) -> str:
    return read_text_input(path, limits.max_bytes)


_BOOLEAN_FORMS = ("true", "false", "1", "0")


class _TooManyTriplesError(Exception):
    pass


class _TooManyWorkloadsError(Exception):
    pass


_WORKLOAD = URIRef("https://w3id.org/infra-policy#Workload")


def _bounded_store(limits: Limits):
    """An rdflib memory store that stops the parser at the triple and workload limits.

    Every parser adds through its store, so the limits hold while parsing,
    whatever the format, instead of after a hostile file was read whole.
    """
    from rdflib.plugins.stores.memory import Memory

    class BoundedMemory(Memory):
        triples_added = 0
        workloads_added = 0

        def add(self, triple, context, quoted=False):
            self.triples_added += 1
            if self.triples_added > limits.max_triples:
                raise _TooManyTriplesError
            if triple[1] == RDF.type and triple[2] == _WORKLOAD:
                self.workloads_added += 1
                if self.workloads_added > limits.max_workloads:
                    raise _TooManyWorkloadsError
            super().add(triple, context, quoted)

    return BoundedMemory()


def _too_many_workloads(path: Path, limits: Limits) -> FactsError:
    return FactsError(
        f"{path}: more than {limits.max_workloads:,} workloads (subjects of type ip:Workload), the limit for one "
        "facts file: each is evaluated on its own, which takes time and memory. If this one is right, raise the "
        "limit (--max-workloads)."
    )


def _too_many_triples(path: Path, limits: Limits) -> FactsError:
    return FactsError(
        f"{path}: more than {limits.max_triples:,} triples, the limit for one facts file. A facts file "
        "describing one organization usually has under a thousand; if this one is right, raise the "
        "limit (--max-triples)."
    )


def _parse_turtle_with_lines(
    text: str, path: Path, limits: Limits, *, trig: bool = False
) -> tuple[Graph, dict[Triple, int]]:
    # rdflib's Turtle (and TriG) parser keeps a line counter; a sink that reads it
    # as each triple is made gives us the line of every fact at no extra parsing
    # cost, and lets us stop at the triple limit instead of after the whole file.
    from rdflib.plugins.parsers.notation3 import RDFSink, SinkParser

    target = _dataset(limits) if trig else Graph(store=_bounded_store(limits))
    lines: dict[Triple, int] = {}

    class LineRecordingSink(RDFSink):
        parser: SinkParser | None = None

        def makeStatement(self, quadruple, why=None):  # noqa: N802 (rdflib's name)
            formula, p, s, o = quadruple
            # the file's own statements: the default graph, or a named graph of TriG
            if (formula == self.rootFormula or isinstance(formula, Graph)) and self.parser is not None:
                key = (self.normalise(formula, s), self.normalise(formula, p), self.normalise(formula, o))
                lines.setdefault(key, self.parser.lines + 1)
            super().makeStatement(quadruple, why)

        def newLiteral(self, s, dt, lang):  # noqa: N802 (rdflib's name)
            # rdflib rewrites an invalid boolean such as "maybe" to "false";
            # keep what was written so the error message can show it.
            if dt == XSD.boolean and s not in _BOOLEAN_FORMS:
                return Literal(s, datatype=dt, normalize=False)
            return super().newLiteral(s, dt, lang)

    sink = LineRecordingSink(target)
    parser_class = SinkParser
    if trig:
        from rdflib.plugins.parsers.trig import TrigSinkParser

        parser_class = TrigSinkParser
    parser = parser_class(sink, baseURI=_base(path), turtle=True)
    sink.parser = parser
    parser.loadBuf(text)
    graph = _flatten(target) if trig else target
    for prefix, namespace in parser._bindings.items():
        graph.bind(prefix, namespace)
    return graph, lines


def _parse_checked_with_lines(text: str, fmt: str, path: Path, limits: Limits) -> tuple[Graph, dict[Triple, int]]:
    """N-Triples or TriG: read by rdflib's own reader, then again to learn each fact's line.

    The first reading checks the file in its format (and words errors so); the
    second uses the Turtle line recorder, N-Triples being a subset of Turtle and
    TriG Turtle with named graphs.
    """
    if fmt == "trig":
        strict = _parse_dataset(text, fmt, path, limits)
    else:
        strict = Graph(store=_bounded_store(limits))
        strict.parse(data=text, format=fmt, publicID=_base(path))
    if len(strict) > limits.max_triples:
        raise _TooManyTriplesError
    try:
        graph, lines = _parse_turtle_with_lines(text, path, limits, trig=fmt == "trig")
    except Exception:  # a file its own reader accepts and the recorder does not: the facts without lines
        return strict, {}
    return (graph, lines) if len(graph) == len(strict) else (strict, {})


# Formats that can put statements in named graphs (TriG is read with its lines, above).
_DATASET_FORMATS = ("trig", "nquads", "json-ld")


def _dataset(limits: Limits):
    from rdflib import Dataset

    return Dataset(store=_bounded_store(limits))


def _flatten(dataset) -> Graph:
    # A graph name only says where statements were kept (a triple store's
    # export puts everything in named graphs): every statement of every graph
    # is a fact, as if it were in the default graph.  Parsing into a plain
    # Graph would silently drop them.
    graph = Graph()
    for prefix, namespace in dataset.namespaces():
        graph.bind(prefix, namespace, override=False)
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


def _parse_dataset(text: str, fmt: str, path: Path, limits: Limits) -> Graph:
    dataset = _dataset(limits)
    dataset.parse(data=text, format=fmt, publicID=_base(path))
    return _flatten(dataset)


def _position(text: str, index: int) -> tuple[int, int]:
    """(line, column), both from 1, of a character index."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _ntriples_line(text: str, why: str) -> int | None:
    """The index of the line an N-Triples error is about (rdflib only quotes what is left of it)."""
    rest = why.split("Invalid line: ", 1)[-1].strip().strip("'\"").rstrip(" .")
    if rest:
        for index, line in enumerate(text.splitlines()):
            if line.rstrip(" .\t").endswith(rest):
                return index
    return None


def _first_bad_line(text: str, fmt: str) -> int | None:
    """The index of the first line rdflib cannot read on its own (N-Triples and N-Quads are one
    statement per line): where the error is when the parser's message does not say."""
    for index, line in enumerate(text.splitlines()):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            _dataset(DEFAULT_LIMITS).parse(data=line + "\n", format=fmt)
        except Exception:  # the same failure, now on one line
            return index
    return None


def _too_many_digits(path: Path, format_label: str) -> FactsError:
    return FactsError(
        f"{path}: not valid {format_label} for infra-policy — a number has more than 4,300 digits, which "
        f"cannot be read. Numbers in facts are below {LARGEST_NUMBER:,.0f}."
    )


def _syntax_error(path: Path, text: str, exc: Exception, format_label: str) -> FactsError:
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return _too_many_digits(path, format_label)
    if isinstance(exc, RecursionError):
        return FactsError(
            f"{path}: not valid {format_label} for infra-policy — its statements are nested too deeply "
            "to read. Write the facts as plain statements about named subjects."
        )
    line_index = getattr(exc, "lines", None)
    column = None
    if hasattr(exc, "getLineNumber"):  # xml.sax.SAXParseException
        line_index = exc.getLineNumber() - 1
        column = exc.getColumnNumber() + 1
        why = exc.getMessage()
    else:
        why = getattr(exc, "_why", None) or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    why = str(why).rstrip(".")
    if format_label == "JSON-LD" and isinstance(exc, (AttributeError, TypeError, KeyError, NameError, ValueError)):
        # rdflib's JSON-LD reader fails on a malformed document with Python's own words
        # ("cannot access local variable …"), which say nothing to the user: not quoted.
        return FactsError(
            f"{path}: not valid JSON-LD — a keyword has a value of the wrong kind. Check that @context is an "
            "object, and @id, @type and @vocab are strings."
        )
    if not isinstance(line_index, int) and format_label in ("N-Triples", "N-Quads"):
        line_index = _ntriples_line(text, why)
        if line_index is None:
            line_index = _first_bad_line(text, "nt" if format_label == "N-Triples" else "nquads")
    if not isinstance(line_index, int):
        return FactsError(f"{path}: not valid {format_label} — {why}.")
    source_lines = text.splitlines()
    offending = source_lines[line_index] if 0 <= line_index < len(source_lines) else ""
    where = f"{path}, line {line_index + 1}"
    position = getattr(exc, "_i", None)
    if isinstance(position, int):
        column = _position(text, position)[1]
    if column is not None:
        where += f", column {column}"
    advice = {
        "Turtle": "Check the punctuation of the statement (each ends with '.', ';' separates "
        "properties, ',' separates values) and that every prefix is declared.",
        "TriG": "Check the punctuation of the statement and that every prefix is declared.",
        "RDF/XML": "Check that every element is closed and every namespace prefix is declared.",
    }.get(format_label, "")
    snippet = f"\n    {offending.strip()[:200]}" if offending.strip() else ""
    return FactsError(f"{where}: not valid {format_label} — {why}.{snippet}" + (f"\n{advice}" if advice else ""))


def _remote_contexts(node) -> list[str]:
    """Context references in a JSON-LD document that would have to be fetched."""
    found: list[str] = []
    stack = [node]
    while stack:  # iterative: a deeply nested document must not exhaust the stack
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key in ("@context", "@import"):
                    refs = value if isinstance(value, list) else [value]
                    found += [ref for ref in refs if isinstance(ref, str)]
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _check_jsonld(text: str, path: Path) -> None:
    import json

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FactsError(f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON — {exc.msg}.") from exc
    except RecursionError as exc:
        raise FactsError(f"{path}: not valid JSON-LD for infra-policy — it is nested too deeply to read.") from exc
    except ValueError as exc:  # Python reads integers of at most 4,300 digits
        raise _too_many_digits(path, "JSON-LD") from exc
    remote = _remote_contexts(document)
    if remote:
        raise FactsError(
            f"{path}: refers to the JSON-LD context {remote[0]!r}, which would have to be fetched; "
            "infra-policy never fetches anything. Put the context inline in the file."
        )


_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _check_rdfxml(text: str, path: Path) -> None:
    # A document type declaration is where entities (internal ones that expand
    # a billion times, external ones that read files or URLs) and external DTDs
    # come from.  RDF/XML needs none, so refusing it closes all of them at once.
    match = _DOCTYPE.search(text)
    if match:
        line, column = _position(text, match.start())
        raise FactsError(
            f"{path}, line {line}, column {column}: the RDF/XML file has a document type declaration "
            f"(<!{match.group(1).upper()} …>). infra-policy refuses DTDs and entities in RDF/XML, because "
            "they can read other files or fetch URLs; remove the declaration and write entity values out."
        )


def _check_characters(graph: Graph, lines: dict[Triple, int], path: Path) -> None:
    # Turtle's \uD800-style escapes can produce lone UTF-16 surrogates, which
    # are not characters: nothing could print or hash them later.
    for triple in graph:
        for term in triple:
            try:
                str(term).encode("utf-8")
            except UnicodeEncodeError as exc:
                line = lines.get(triple)
                where = f"{path}, line {line}" if line else str(path)
                code = ord(str(term)[exc.start])
                raise FactsError(
                    f"{where}: the escape \\u{code:04X} stands for half of a UTF-16 surrogate pair, which is not "
                    "a character. Write the character itself, or escape it whole as \\UXXXXXXXX."
                ) from None


def load_facts(path: str | Path, input_format: str | None = None, limits: Limits = DEFAULT_LIMITS) -> FactsDocument:
    """Parse a facts file; raise :class:`FactsError` with a readable message.

    ``input_format`` (a key of :data:`INPUT_FORMATS`) overrides the extension.
    """
    path = Path(path)
    text = _read_text(path, limits)
    return parse_facts(text, path, format_of(path, input_format), limits)


# How facts that come from no file are named in messages.
STDIN = Path("<stdin>")
STRING = Path("<string>")
GRAPH = Path("<graph>")

_RDF_TEXT_START = re.compile(r"\s*(@prefix|@base|prefix\b|base\b|<|\{|\[|#)", re.IGNORECASE)


def looks_like_rdf_text(text: str) -> bool:
    """Whether a string is RDF text rather than a file name: a line break, or a start no path has."""
    return "\n" in text or bool(_RDF_TEXT_START.match(text))


def load_facts_from(
    facts: str | Path | Graph, input_format: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> FactsDocument:
    """Facts given as a path, a string of RDF text (Turtle unless ``input_format`` says) or an rdflib Graph."""
    if isinstance(facts, Graph):
        graph = Graph()
        for prefix, namespace in facts.namespaces():
            graph.bind(prefix, namespace, override=True, replace=True)
        for triple in facts.triples((None, None, None)):
            graph.add(triple)
        if len(graph) > limits.max_triples:
            raise _too_many_triples(GRAPH, limits)
        if len(graph) == 0:
            raise FactsError(f"{GRAPH}: the graph is empty. Describe one ip:Organization and run again.")
        return FactsDocument(path=GRAPH, graph=graph, lines={})
    if isinstance(facts, str) and looks_like_rdf_text(facts):
        if len(facts.encode("utf-8")) > limits.max_bytes:
            raise FactsError(
                f"{STRING}: the text is more than the limit of {limits.max_bytes:,} bytes; "
                "if it is right, raise the limit (max_bytes)."
            )
        return parse_facts(facts, STRING, input_format or "turtle", limits)
    return load_facts(facts, input_format, limits)


def parse_facts(text: str, path: Path, input_format: str = "turtle", limits: Limits = DEFAULT_LIMITS) -> FactsDocument:
    """Parse facts already read from ``path`` (a file, ``<stdin>`` or ``<string>``) in a named format."""
    _quiet_rdflib()
    fmt, label = INPUT_FORMATS[format_of(path, input_format)]
    if not text.strip():
        raise FactsError(
            f"{path}: the file is empty. Describe one ip:Organization (run `infra-policy init`, or see the "
            "README) and run again."
        )
    if fmt == "json-ld":
        _check_jsonld(text, path)
    if fmt == "xml":
        _check_rdfxml(text, path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # rdflib's deprecation chatter is not the user's concern
            if fmt == "turtle":
                graph, lines = _parse_turtle_with_lines(text, path, limits)
            elif fmt in ("nt", "trig"):
                graph, lines = _parse_checked_with_lines(text, fmt, path, limits)
            elif fmt in _DATASET_FORMATS:
                graph, lines = _parse_dataset(text, fmt, path, limits), {}
            else:
                graph, lines = Graph(store=_bounded_store(limits)), {}
                graph.parse(data=text, format=fmt, publicID=_base(path))
    except _TooManyTriplesError:
        raise _too_many_triples(path, limits) from None
    except _TooManyWorkloadsError:
        raise _too_many_workloads(path, limits) from None
    except Exception as exc:  # rdflib raises many unrelated types for bad syntax
        raise _syntax_error(path, text, exc, label) from exc
    if len(graph) > limits.max_triples:
        raise _too_many_triples(path, limits)
    _check_characters(graph, lines, path)
    if len(graph) == 0:
        if fmt == "json-ld":
            raise FactsError(
                f"{path}: the JSON-LD document gives no RDF statements: a key becomes a property only when "
                "@context maps it to an IRI (or it is a full IRI itself), and a node needs an @id. Describe one "
                "ip:Organization (see the README) and run again."
            )
        raise FactsError(
            f"{path}: contains no RDF statements (only comments or prefixes). Describe one "
            "ip:Organization (run `infra-policy init`, or see the README) and run again."
        )
    return FactsDocument(path=path, graph=graph, lines=lines, text=text)


# The packaged knowledge base is about 100 kB; an override may grow, but not without bound.
KB_LIMITS = Limits(max_bytes=50_000_000, max_triples=1_000_000)


def load_kb_graph(directory: Path, names: tuple[str, ...]) -> Graph:
    """Parse the named Turtle files of a knowledge base into one graph."""
    _quiet_rdflib()
    graph = Graph()
    for name in names:
        file = directory / name
        if not file.is_file():
            raise KnowledgeBaseError(
                f"{file}: the knowledge base file is missing. A knowledge base directory needs every file "
                "of the packaged kb/ folder; start from a copy of it."
            )
        try:
            text = _read_text(file, KB_LIMITS)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    graph.parse(data=text, format="turtle", publicID=RELATIVE_BASE)
                except Exception as exc:
                    raise _syntax_error(file, text, exc, "Turtle") from exc
        except FactsError as exc:
            raise KnowledgeBaseError(f"knowledge base: {exc}") from exc
    return graph
