"""Row-streamed fusion: a window op whose output only the next window op reads never holds that output whole.

MobileNet's inverted residual expands a narrow tensor six times (a 1x1 CONV_2D) and convolves the wide result
depthwise: the wide tensor is the model's largest and lives only between the two ops. Fused, the producer
computes that tensor a row at a time into a ring of as many rows as the consumer's window spans, just ahead of
the consumer's output row that needs them, so the arena holds the ring instead of the tensor. Every value is
computed exactly once and with the same arithmetic, so the outputs do not change.

A fusion also keeps the producer's input alive until the consumer has finished, which costs memory where
the pair's own tensors are small; generate_sources keeps a fusion only where the plan's arena shrinks. The
CMSIS-NN builds do not fuse (CMSIS-NN computes whole tensors).
"""

import dataclasses

from edgecnn.codegen.ops import conv
from edgecnn.codegen.ops.common import indent, row_overlap_distance

ROW_EMITTERS = {"CONV_2D": conv.conv_2d_rows, "DEPTHWISE_CONV_2D": conv.depthwise_conv_2d_rows}


@dataclasses.dataclass(frozen=True)
class Fusion:
    producer: object  # graph.Layer
    consumer: object
    tensor: int  # the producer's output, the consumer's input
    rows: int  # rows in the ring
    row_bytes: int
    span: int  # input rows one output row of the consumer reads

    def ring_bytes(self, copies=1):
        """The ring: `rows` rows, twice over in the CMSIS-NN builds (each row is stored at slot r % rows and
        again at r % rows + rows, so any window of rows lies contiguous, as CMSIS-NN reads its input)."""
        return copies * self.rows * self.row_bytes

    @property
    def tensor_bytes(self):
        return self.producer.outputs[0].nbytes

    def last_row(self, output_row):
        """The last row of the intermediate tensor computed before the consumer's output row `output_row`: the
        last its window reads, and for the last output row every remaining one (the trace shows them all)."""
        window = conv.window_of(self.consumer)
        if output_row == window.out_h - 1:
            return window.in_h - 1
        return min(window.in_h - 1, output_row * window.stride_h - window.pad_top + self.span - 1)

    def overlap_distance(self):
        """Bytes the consumer's output must start below the producer's input to overwrite only input rows that
        every intermediate row computed so far has consumed (row_overlap_distance)."""
        producer_window, consumer_window = conv.window_of(self.producer), conv.window_of(self.consumer)

        def first_row_needed(output_row):
            next_row = self.last_row(output_row) + 1
            if next_row >= consumer_window.in_h:
                return producer_window.in_h  # every intermediate row is done: the input is dead
            return producer_window.first_row_needed(next_row)

        return row_overlap_distance(
            consumer_window.out_h, consumer_window.output_row_bytes, producer_window.input_row_bytes, first_row_needed
        )


def candidates(graph):
    """Every producer-consumer pair that can be fused, largest intermediate tensor first."""
    readers = {}
    for layer in graph.layers:
        for position in layer.activation_positions():
            readers.setdefault(layer.inputs[position].index, []).append(layer.index)
    found = []
    for producer, consumer in zip(graph.layers, graph.layers[1:]):
        if producer.name not in ROW_EMITTERS or consumer.name not in ROW_EMITTERS:
            continue
        if len(producer.outputs) != 1 or consumer.activation_positions() != [0]:
            continue
        tensor = producer.outputs[0].index
        if consumer.inputs[0].index != tensor or readers.get(tensor) != [consumer.index]:
            continue
        if tensor in graph.output_indices or producer.activation_positions() != [0]:
            continue
        window = conv.window_of(consumer)
        span = (window.filter_h - 1) * window.dilation_h + 1
        found.append(Fusion(producer, consumer, tensor, min(span, window.in_h), window.input_row_bytes, span))
    return sorted(found, key=lambda fusion: -fusion.tensor_bytes)


def fused_lines(fusion, emission):
    """The body of the fused function: parameters input0 (the producer's input), output0 (the consumer's
    output) and ring (ring_bytes of scratch)."""
    producer, consumer = fusion.producer, fusion.consumer
    producer_window, consumer_window = conv.window_of(producer), conv.window_of(consumer)
    rows, row_bytes = fusion.rows, fusion.row_bytes
    ring_row = f"ring + (oy % {rows}) * {row_bytes}"
    produce = ROW_EMITTERS[producer.name](
        producer,
        emission,
        conv.contiguous_rows("input0", producer_window.input_row_bytes),
        ring_row,
    )
    consume = ROW_EMITTERS[consumer.name](
        consumer,
        emission,
        lambda expression: f"ring + ({conv.grouped(expression)} % {rows}) * {row_bytes}",
        f"output0 + oy * {consumer_window.output_row_bytes}",
    )
    produce_row = [
        "const int oy = computed;",
        *produce,
        f"EDGECNN_TRACE_PART({fusion.tensor}, oy * {row_bytes}, {ring_row}, {row_bytes});",
    ]
    emission.describe(
        f"op {producer.index} ({producer.name}) streamed row by row into op {consumer.index} ({consumer.name}) "
        f"through a ring of {rows} rows ({fusion.ring_bytes()} bytes instead of {fusion.tensor_bytes})"
    )
    return _fused_loops(fusion, consumer_window, produce_row, consume)


def fused_cmsis_lines(fusion, emission):
    """The fused function's body in the CMSIS-NN builds: both layers as CMSIS-NN row calls, `scratch` their
    buffer, the ring twice over (see Fusion.ring_bytes)."""
    from edgecnn.codegen import cmsis

    producer, consumer = fusion.producer, fusion.consumer
    producer_window, consumer_window = conv.window_of(producer), conv.window_of(consumer)
    rows, row_bytes = fusion.rows, fusion.row_bytes
    ring_row = f"ring + (oy % {rows}) * {row_bytes}"
    producer_call, consumer_call = cmsis.ROW_CALLS[producer.name](producer), cmsis.ROW_CALLS[consumer.name](consumer)
    checks = producer_call.check_lines(emission) + consumer_call.check_lines(emission)
    produce = producer_call.lines(emission, conv.contiguous_rows("input0", producer_window.input_row_bytes), ring_row)
    consume = consumer_call.lines(
        emission,
        lambda expression: f"ring + ({conv.grouped(expression)} % {rows}) * {row_bytes}",
        f"output0 + oy * {consumer_window.output_row_bytes}",
    )
    produce_row = [
        "const int oy = computed;",
        *produce,
        f"memcpy(ring + (oy % {rows} + {rows}) * {row_bytes}, {ring_row}, {row_bytes});",
        f"EDGECNN_TRACE_PART({fusion.tensor}, oy * {row_bytes}, {ring_row}, {row_bytes});",
    ]
    return checks + _fused_loops(fusion, consumer_window, produce_row, consume)


def _fused_loops(fusion, consumer_window, produce_row, consume):
    last = f"by * {consumer_window.stride_h} - {consumer_window.pad_top} + {fusion.span - 1}"
    # Before each output row, the intermediate rows it reads (after the last one, all that remain: see last_row).
    return [
        "int computed = 0;",
        f"for (int by = 0; by < {consumer_window.out_h}; ++by) {{",
        f"  const int wanted = {last} < {consumer_window.in_h - 1} ? {last} : {consumer_window.in_h - 1};",
        f"  const int last = by == {consumer_window.out_h - 1} ? {consumer_window.in_h - 1} : wanted;",
        "  for (; computed <= last; ++computed) {",
        *indent(produce_row, 2),
        "  }",
        "  {",
        "    const int oy = by;",
        *indent(consume, 2),
        "  }",
        "}",
    ]
