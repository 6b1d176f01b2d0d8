"""Where TFLite Micro's CMSIS-NN kernels do not compute what its reference kernels compute, found by the emulator
tests (every output compared with the NumPy interpreter's micro flavor) and read in the tree's sources."""

# op -> (does the defect apply to this op of this graph, what goes wrong)
CMSIS_NN_DEFECTS = {
    "TRANSPOSE": (
        lambda graph, operator: graph.tensors[operator.inputs[0]].type_name == "INT8"
        and len(graph.tensors[operator.inputs[0]].shape) > 4,
        "CMSIS-NN's int8 TRANSPOSE takes at most 4-D tensors and kernels/cmsis_nn/transpose.cc drops that "
        "check's error, so a 5-D output is never written (whatever the arena held)",
    ),
}


def cmsis_nn_defects(model):
    """["op N (NAME): what goes wrong", ...] for the ops of `model` (an edgecnn.tflite Model) that hit one."""
    graph = model.main
    found = []
    for operator in graph.operators:
        applies, reason = CMSIS_NN_DEFECTS.get(operator.name, (None, None))
        if applies is not None and applies(graph, operator):
            found.append(f"op {operator.index} ({operator.name}): {reason}")
    return found
