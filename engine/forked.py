"""Work split over forked worker processes, results in order.

Why fork: the workers inherit what the parent has already loaded and parsed (knowledge base,
compiled rules, the facts graph, the decision so far) without pickling it; only the small task (a
range of indexes) goes to a worker and only its result comes back. Used to decide and to write one
large organization on several cores (engine/pipeline.py, engine/outputs/export.py); the batch of
files (cli/batch.py) and the site build fork their workers the same way.

Before forking, the objects the parent has made so far are frozen out of the garbage collector
(``gc.freeze``): the workers then never touch those pages to collect them (they stay shared, copy
on write), and neither process spends its collections walking a graph of 100,000 triples that is
alive until the end anyway.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")

# Set just before the workers fork, so each inherits the function it runs (a closure over the
# parent's data would not pickle, and need not: fork copies it).
_FUNCTION: Callable | None = None


def _call(task):
    assert _FUNCTION is not None
    return _FUNCTION(task)


def _may_fork() -> bool:
    # a daemonic process (a worker of a batch's or a caller's pool) may not have children: work here
    import multiprocessing

    return not multiprocessing.current_process().daemon


def forked_map(function: Callable[[Task], Result], tasks: Sequence[Task], jobs: int) -> Iterator[Result]:
    """``function`` over ``tasks``, results in the order of ``tasks``: in this process when ``jobs`` is 1
    or there is one task, else in ``jobs`` forked worker processes (``function`` and what it reaches are
    inherited; each task and each result is pickled). An exception in a worker is raised here.

    This process does not collect cyclic garbage while it waits (what it receives lives on: the
    results); the workers do (the rule engine's host and networkx graphs leave cycles behind).
    """
    if jobs <= 1 or len(tasks) < 2 or not _may_fork():
        for task in tasks:
            yield function(task)
        return
    import multiprocessing

    global _FUNCTION
    _FUNCTION = function
    with collection_paused(), heap_frozen():
        try:
            context = multiprocessing.get_context("fork")
            with context.Pool(min(jobs, len(tasks)), initializer=gc.enable) as pool:
                yield from pool.imap(_call, tasks)
        finally:
            _FUNCTION = None


def ranges(count: int, size: int) -> list[tuple[int, int]]:
    """``[(0, size), (size, 2 * size), …]`` covering ``range(count)``."""
    return [(start, min(start + size, count)) for start in range(0, count, size)]


@contextmanager
def heap_frozen() -> Iterator[None]:
    """What exists on entry is left out of cyclic garbage collection inside (``gc.freeze``), and put
    back on exit (``gc.unfreeze``): nothing is kept that would have been freed, it is only not walked.

    Around forking workers: they do not copy the frozen pages to walk them, and the parent's
    collections while it waits walk only what it receives. Not around work done in one process: frozen
    and put back, objects miss the collector's accounting of old objects, and a process evaluating
    files one after another grew (tests/test_batch.py, the flat-memory test). Left as it is when objects
    are frozen already (by the program embedding the library).
    """
    if gc.get_freeze_count():
        yield
        return
    gc.collect(1)  # the young garbage first: frozen, it would wait for a full collection to be freed
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (restored after, as it was).

    For stages that make many objects that all live on (parsing, profiling: measured on 10,000
    workloads, the same peak memory without collection and a quarter less time), where each
    collection would walk everything made so far again. Not around deciding: the rule engine's
    host leaves cycles of its own behind for every workload (about 60 kB each; docs/durable-rules.md).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Background:
    """``function`` run in a forked process while this one goes on (:func:`in_background`)."""

    def __init__(self, function: Callable[[], Result], enabled: bool) -> None:
        self._function = function
        self._process = None
        self._receiver = None
        if enabled and _may_fork():
            import multiprocessing

            context = multiprocessing.get_context("fork")
            self._receiver, sender = context.Pipe(duplex=False)
            self._process = context.Process(target=self._run, args=(sender,), daemon=True)
            self._process.start()
            sender.close()

    def _run(self, sender) -> None:  # in the forked process
        gc.enable()
        try:
            sender.send((True, self._function()))
        except BaseException:  # whatever it was, the parent does the work again to raise it
            sender.send((False, None))
        finally:
            sender.close()

    def result(self) -> Result:
        """What ``function`` returned; what it raised is raised here, where it runs again to be raised."""
        if self._process is not None:
            try:
                done, value = self._receiver.recv()
            except EOFError:  # the process died without a word
                done, value = False, None
            self._stop()
            if done:
                return value
        return self._function()

    def _stop(self) -> None:
        if self._process is not None:
            self._receiver.close()
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._process = None


@contextmanager
def in_background(function: Callable[[], Result], enabled: bool = True) -> Iterator[Background]:
    """Run ``function`` (which must not change anything this process sees) in a forked process while
    the body runs; ``.result()`` waits for it. Not ``enabled``: it runs here when its result is asked
    for. Leaving the body without asking (an exception) stops the process."""
    running = Background(function, enabled)
    try:
        yield running
    finally:
        running._stop()
