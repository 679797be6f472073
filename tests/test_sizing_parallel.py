"""Thread pool, seeded child streams and recycled buffers of the Monte Carlo engine."""

from __future__ import annotations

import numpy as np
import pytest

from researchkit.errors import ParameterError
from researchkit.sizing.parallel import (
    MAX_THREADS,
    Buffers,
    spawn_generators,
    thread_count,
    worker_pool,
)


def test_thread_count():
    assert 1 <= thread_count() <= MAX_THREADS
    assert thread_count(3) == 3
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ParameterError, match="threads"):
            thread_count(bad)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_runner_returns_results_in_task_order_and_raises(threads):
    with worker_pool(threads) as runner:
        assert runner.threads == threads
        assert runner.run([lambda i=i: i * i for i in range(20)]) == [i * i for i in range(20)]
        assert runner.run([]) == []

        def boom():
            raise ValueError("task failed")

        with pytest.raises(ValueError, match="task failed"):
            runner.run([lambda: 1, boom])


def test_spawned_generators_are_reproducible_and_independent():
    a = [g.random(5) for g in spawn_generators(np.random.default_rng(7), 3)]
    b = [g.random(5) for g in spawn_generators(np.random.default_rng(7), 3)]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])
    # a generator whose bit generator has no SeedSequence (legacy seeding) cannot spawn;
    # it still gives reproducible, distinct children
    def legacy():
        return np.random.Generator(np.random.RandomState(3)._bit_generator)

    with pytest.raises(TypeError):
        legacy().spawn(2)
    kids = [g.random(3) for g in spawn_generators(legacy(), 2)]
    np.testing.assert_array_equal(kids, [g.random(3) for g in spawn_generators(legacy(), 2)])
    assert not np.array_equal(kids[0], kids[1])


def test_buffers_recycle_only_arrays_of_their_kind():
    buffers = Buffers(10)
    a = buffers.take()
    assert a.shape == (10,) and a.dtype == np.float64
    buffers.give(a)
    assert buffers.take() is a
    for other in (np.empty(9), np.empty(10, dtype=np.float32), np.empty(20)[::2],
                  np.empty(20)[:10]):
        buffers.give(other)
        assert buffers.take() is not other
