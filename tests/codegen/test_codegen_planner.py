"""The memory plan: what the row-overlap rule allows, that every plan keeps live tensors apart except where an
op's loop order makes sharing safe, and that fused and overlapped plans beat TFLite Micro's greedy arena.
(That the shared bytes really are safe is shown by the bit-exact tests, which run every plan.)"""

import codegen_models
import pytest

from edgecnn.codegen import planner
from edgecnn.codegen.ops.common import row_overlap_distance

pytest.importorskip("tensorflow")

MODELS = (*codegen_models.ZOO_MODELS, "every_op", "grouped", *codegen_models.FOREIGN_MODELS)


def test_a_1x1_conv_from_c_to_2c_needs_the_output_and_one_input_row():
    """The issue's example: computed row by row, the output overwrites the input rows already read."""
    rows, input_row = 12, 8 * 16
    distance = row_overlap_distance(rows, 2 * input_row, input_row, lambda row: row)
    assert distance + rows * input_row == rows * 2 * input_row + input_row


def test_a_3x3_depthwise_in_place_keeps_two_rows_apart():
    rows, row_bytes = 10, 40
    assert row_overlap_distance(rows, row_bytes, row_bytes, lambda row: row - 1) == 2 * row_bytes


def _assert_sound(plan, name):
    arena = [buffer for buffer in plan.buffers if buffer.location == "arena"]
    for first in arena:
        assert first.offset % planner.ALIGNMENT == 0 and first.end <= plan.arena_bytes, name
        for second in arena:
            if first.number >= second.number or not first.live_with(second):
                continue
            if first.offset >= second.end or second.offset >= first.end:
                continue
            below = plan.allowances.get((first.number, second.number))
            above = plan.allowances.get((second.number, first.number))
            assert (below is not None and second.offset <= first.offset - below) or (
                above is not None and first.offset <= second.offset - above
            ), (name, first, second)


@pytest.mark.parametrize("name", MODELS)
def test_every_build_keeps_live_tensors_apart_except_allowed_overlaps(models, programs, name):
    sources = programs.sources(models.path(name))
    for plan in (sources.plan, sources.cmsis_plan, sources.mve_plan):
        _assert_sound(plan, name)
    # TFLite Micro plans the same tensors in 16-byte units (and, with CMSIS-NN, the same scratch buffers).
    assert sources.plan.arena_bytes <= sources.plan.greedy_arena_bytes
    for plan in (sources.cmsis_plan, sources.mve_plan):
        scratch = max((buffer.size for buffer in plan.scratch.values()), default=0)
        assert plan.arena_bytes <= plan.greedy_arena_bytes + scratch + 16
    fused = {fusion.tensor for fusion in sources.plan.fusions}
    assert not fused & set(sources.plan.buffer_of), "a fused tensor has bytes of its own"


def test_fusion_and_overlaps_take_mobilenet_below_the_peak_of_live_tensors(models, programs):
    sources = programs.sources(models.path("mobilenet_v2"))
    plan = sources.plan
    assert plan.fusions, "no fusion"
    pairs = {(fusion.producer.name, fusion.consumer.name) for fusion in plan.fusions}
    assert ("CONV_2D", "DEPTHWISE_CONV_2D") in pairs
    assert plan.arena_bytes + plan.output_bytes < 0.5 * plan.peak_live_bytes
    # The CMSIS-NN builds fuse the same pairs (CMSIS-NN called row by row, the ring twice over).
    for cmsis_plan in (sources.cmsis_plan, sources.mve_plan):
        assert cmsis_plan.fusions == plan.fusions and cmsis_plan.ring_copies == 2
        assert cmsis_plan.arena_bytes < 0.5 * plan.peak_live_bytes
