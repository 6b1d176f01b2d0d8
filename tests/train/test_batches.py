"""The batch plan: every replica count sees the same global batches, shares cover them exactly, none is empty."""

import numpy as np
import pytest

from edgecnn.train.batches import BatchPlan


def global_batches(plan, epoch):
    """Per step: the indices and augmentation of the whole global batch, put back together from the shares."""
    shares = list(plan.shares(epoch, range(plan.replicas)))
    steps = []
    for step in range(plan.steps_per_epoch):
        pieces = shares[step * plan.replicas:(step + 1) * plan.replicas]
        kept = [(indices[weights > 0], parameters[weights > 0]) for indices, weights, parameters, _ in pieces]
        rows = {int(piece[3]) for piece in pieces}
        assert len(rows) == 1 and all(len(piece[0]) >= 1 for piece in pieces)
        steps.append((np.concatenate([k[0] for k in kept]), np.concatenate([k[1] for k in kept]), rows.pop()))
    return steps


@pytest.mark.parametrize("replicas", [2, 3, 8])
def test_replicas_share_the_single_replica_batches(replicas):
    single = BatchPlan(count=23, batch_size=8, seed=5, augment=True)
    split = BatchPlan(count=23, batch_size=8, seed=5, augment=True, replicas=replicas)
    for epoch in (0, 1):
        for (indices, parameters, rows), (expected, expected_parameters, expected_rows) in zip(
                global_batches(split, epoch), global_batches(single, epoch)):
            assert np.array_equal(indices, expected) and np.array_equal(parameters, expected_parameters)
            assert rows == expected_rows == len(expected)
    steps = global_batches(single, 0)
    assert [rows for _, _, rows in steps] == [8, 8, 7]
    assert sorted(np.concatenate([indices for indices, _, _ in steps]).tolist()) == list(range(23))


def test_epochs_reshuffle_reproducibly_and_evaluation_keeps_order():
    plan = BatchPlan(count=50, batch_size=16, seed=1)
    assert not np.array_equal(plan.order(0), plan.order(1))
    assert np.array_equal(plan.order(3), BatchPlan(count=50, batch_size=16, seed=1).order(3))
    assert not np.array_equal(plan.order(0), BatchPlan(count=50, batch_size=16, seed=2).order(0))
    assert np.array_equal(BatchPlan(count=50, batch_size=16, seed=1, shuffle=False).order(4), np.arange(50))
    parameters = plan.augmentation(0)
    assert parameters.shape == (50, 3) and -1 <= parameters.min() < -0.5 and 0.5 < parameters.max() <= 1
