"""Running independent numpy steps of the Monte Carlo on a few threads.

numpy releases the GIL while it draws random numbers into an array, sorts, and runs array
arithmetic, so independent steps (drawing one input, sorting one column, summarising one output)
run in parallel on plain threads without copying data between processes.

Results never depend on the number of threads: every task writes only its own output, every
random task has its own seeded generator, and every sum over tasks is taken in task order.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

from researchkit.errors import ParameterError

__all__ = ["Buffers", "Runner", "spawn_generators", "thread_count", "worker_pool"]

T = TypeVar("T")

#: Default upper bound on threads: beyond this the steps are limited by memory bandwidth.
MAX_THREADS = 8


def thread_count(threads: int | None = None) -> int:
    """Threads to use: ``threads`` if given (≥ 1), else one per available core, at most 8."""
    if threads is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # pragma: no cover - not Linux
            cores = os.cpu_count() or 1
        return max(1, min(MAX_THREADS, cores))
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ParameterError("invalid number of threads", parameter="threads",
                             expected="an integer >= 1 or None (one per core)", got=threads)
    return threads


class Runner:
    """Runs lists of independent tasks, on a thread pool or (one thread) inline."""

    def __init__(self, executor: ThreadPoolExecutor | None = None, threads: int = 1) -> None:
        self._executor = executor
        self.threads = threads if executor is not None else 1

    def run(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        """Run every task; return their results in task order (the first error is raised)."""
        if self._executor is None or len(tasks) < 2:
            return [task() for task in tasks]
        futures = [self._executor.submit(task) for task in tasks]
        return [f.result() for f in futures]


@contextmanager
def worker_pool(threads: int | None = None) -> Iterator[Runner]:
    """A :class:`Runner` with ``thread_count(threads)`` threads, shut down on exit."""
    count = thread_count(threads)
    if count == 1:
        yield Runner(None)
        return
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="researchkit") as ex:
        yield Runner(ex, count)


def spawn_generators(rng: np.random.Generator, k: int) -> list[np.random.Generator]:
    """``k`` independent child generators of ``rng`` (``Generator.spawn``): one per task, so
    the numbers do not depend on which thread runs which task, or when."""
    try:
        return list(rng.spawn(k))
    except (TypeError, ValueError):  # a bit generator without a SeedSequence
        seq = np.random.SeedSequence([int(v) for v in rng.integers(0, 2**63, size=4)])
        kind = type(rng.bit_generator)
        return [np.random.Generator(kind(child)) for child in seq.spawn(k)]


class Buffers:
    """Spare float64 arrays of one length, recycled between tasks.

    A freshly allocated large array costs a page fault per page on first touch (several ms per
    8 MB on a virtual machine, more than the sort that fills it); recycling the arrays that
    finished tasks release avoids that and lowers the peak memory. Only arrays nothing else
    refers to may be given back.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self._spare: list[np.ndarray] = []
        self._lock = threading.Lock()

    def take(self) -> np.ndarray:
        """A float64 array of length ``n`` with arbitrary contents."""
        with self._lock:
            if self._spare:
                return self._spare.pop()
        return np.empty(self.n)

    def give(self, arr: np.ndarray) -> None:
        """Return an array (an owner of its memory, float64, length ``n``) for reuse."""
        if arr.dtype == np.float64 and arr.shape == (self.n,) and arr.flags.owndata \
                and arr.flags.writeable:
            with self._lock:
                self._spare.append(arr)
