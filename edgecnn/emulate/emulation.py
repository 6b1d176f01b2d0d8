"""Run a model's firmware on an emulated Cortex-M and collect what a board user needs to know about it."""

import dataclasses

import numpy as np

from edgecnn import artifacts, tflite
from edgecnn.emulate import protocol, runner, toolchain, tree
from edgecnn.emulate.cpus import CPUS
from edgecnn.emulate.engines import ENGINES
from edgecnn.errors import ConfigurationError, EdgecnnError, ExternalToolError, RuntimeBackendError


@dataclasses.dataclass
class EmulationResult:
    """Outputs, memory and instruction count of one model on one emulated CPU."""

    model: str
    cpu: str
    board: str
    engine: str
    kernels: str
    tree: str
    outputs: list  # one (N, ...) array per model output
    output_indices: list
    arena_used_bytes: int
    registered_ops: int  # the op resolver's registrations (exactly the model's distinct ops)
    tensor_arena_size: int  # kTensorArenaSize as `export --target tflm` writes it
    arena_bytes: int  # the arena the firmware was built with (kTensorArenaSize unless asked otherwise)
    flash_bytes: int
    ram_bytes: int
    instructions_per_inference: int  # None when not counted
    instructions_note: str  # how it was counted, or why not
    labels: list

    @property
    def count(self):
        return len(self.outputs[0]) if self.outputs else 0

    def top_classes(self):
        """Index of the largest value of the first output, per input."""
        first = self.outputs[0].reshape(self.count, -1)
        return [int(value) for value in np.argmax(first, axis=1)]

    def top_labels(self):
        return [self.labels[index] if index < len(self.labels) else str(index) for index in self.top_classes()]

    def to_dict(self):
        def listed(array):
            return [row.reshape(-1).tolist() for row in array]

        return {
            "model": self.model,
            "cpu": self.cpu,
            "board": self.board,
            "engine": self.engine,
            "kernels": self.kernels,
            "tree": self.tree,
            "outputs": listed(self.outputs[0]) if self.outputs else [],
            "output_tensors": [
                {"index": int(index), "type": array.dtype.name, "shape": list(array.shape[1:]), "values": listed(array)}
                for index, array in zip(self.output_indices, self.outputs)
            ],
            "top_labels": self.top_labels(),
            "arena_used_bytes": self.arena_used_bytes,
            "registered_ops": self.registered_ops,
            "tensor_arena_size": self.tensor_arena_size,
            "arena_bytes": self.arena_bytes,
            "flash_bytes": self.flash_bytes,
            "ram_bytes": self.ram_bytes,
            "instructions_per_inference": self.instructions_per_inference,
            "instructions_note": self.instructions_note,
        }


def check_cpu(qemu, cpu):
    if cpu.name not in qemu.cpus:
        version = ".".join(map(str, qemu.version))
        raise ExternalToolError(
            f"{qemu.path} (QEMU {version}) does not know the CPU {cpu.name}: {toolchain.QEMU_HINT}"
        )


def unavailable_reason(cpu_name, tflm_root=None, engine="tflm"):
    """None when `run_model` can run on `cpu_name`, else the one-line reason (nothing is compiled to find out)."""
    try:
        cpu = CPUS.get(cpu_name)
        spec = ENGINES.get(engine)
        toolchain.arm_toolchain()
        check_cpu(toolchain.qemu_user(), cpu)
        if spec.needs_tree or tflm_root is not None:
            tree.find_tree(tflm_root)
    except EdgecnnError as error:
        return str(error)
    return None


def run_model(model_path, cpu="cortex-m4", inputs=None, engine="tflm", tflm_root=None, count_instructions=True,
              arena_size=None, timeout=runner.DEFAULT_TIMEOUT, progress=None, optimization=None):
    """Build `model_path`'s firmware for `cpu` (cached), run it on `inputs` under qemu-arm and return the result.

    `inputs`: one (N, ...) array per model input (a single array for a one-input model; verify's inputs work
    too), in the input tensors' dtypes; None runs one uniform random input (seed 0). `count_instructions` also
    runs the first input on the CPU's board under qemu-system-arm with -icount. `optimization`: "speed" (-O2,
    the default) or "size" (-Os), for the library and the firmware alike.
    """
    cpu_spec = CPUS.get(cpu)
    spec = ENGINES.get(engine)
    model = tflite.read_model(model_path)
    arrays = model_inputs(model, inputs)
    toolchain.arm_toolchain()
    qemu = toolchain.qemu_user()
    check_cpu(qemu, cpu_spec)
    built = spec.build(model_path, cpu_spec, tflm_root=tflm_root, arena_size=arena_size, progress=progress,
                       optimization=optimization)
    count = len(arrays[0])
    samples = b"".join(array[sample].tobytes() for sample in range(count) for array in arrays)
    run = runner.run_user_mode(qemu, built, samples, timeout).output
    _check_tensors(run, model, built)
    graph = model.main
    outputs = [
        run.output_array(position, count).reshape(count, *_sample_shape(graph.tensors[index].shape))
        for position, index in enumerate(graph.outputs)
    ]
    instructions, note = None, "not counted"
    if count_instructions:
        instructions, note = _count_instructions(built, samples[: len(samples) // count], run, timeout)
    return EmulationResult(
        model=str(model_path),
        cpu=cpu_spec.name,
        board=cpu_spec.board,
        engine=spec.name,
        kernels=built.kernels,
        tree=built.tree,
        outputs=outputs,
        output_indices=list(graph.outputs),
        arena_used_bytes=run.arena_used_bytes,
        registered_ops=run.registered_ops,
        tensor_arena_size=built.tensor_arena_size,
        arena_bytes=built.arena_bytes,
        flash_bytes=built.flash_bytes,
        ram_bytes=built.ram_bytes,
        instructions_per_inference=instructions,
        instructions_note=note,
        labels=artifacts.tflite_labels(model),
    )


def run_project_selftest(project_dir, cpu="cortex-m4", tflm_root=None, timeout=runner.DEFAULT_TIMEOUT):
    """(passed, the self-test's line) of an exported firmware project's common core on an emulated CPU."""
    import tempfile

    from edgecnn.emulate import firmware

    cpu_spec = CPUS.get(cpu)
    qemu = toolchain.qemu_user()
    check_cpu(qemu, cpu_spec)
    with tempfile.TemporaryDirectory(prefix="edgecnn-selftest-") as folder:
        elf = firmware.build_project_firmware(project_dir, cpu_spec, tflm_root, folder)
        stdout, stderr, exit_code = runner.run_program(qemu, cpu_spec, elf, timeout)
    lines = [line for line in stdout.splitlines() if line.startswith("edgecnn: ")]
    if exit_code not in (0, 1) or not lines:
        output = protocol.parse(stdout)
        raise RuntimeBackendError(f"the self-test of {project_dir} failed on {cpu_spec.name}: "
                                  f"{runner.failure_reason(exit_code, output, stderr)}")
    return exit_code == 0, lines[-1]


def model_inputs(model, inputs):
    """`inputs` as one (N, *shape without batch) array per model input, checked against the input tensors."""
    graph = model.main
    tensors = [graph.tensors[index] for index in graph.inputs]
    if inputs is None:
        return [_random_samples(tensor, np.random.default_rng(0)) for tensor in tensors]
    inputs = getattr(inputs, "quantized", inputs)
    if isinstance(inputs, np.ndarray) or not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    if len(inputs) != len(tensors):
        raise ConfigurationError(f"{model.source}: the model has {len(tensors)} inputs, got {len(inputs)} arrays")
    arrays = []
    for tensor, array in zip(tensors, inputs):
        array = np.asarray(array)
        shape = _sample_shape(tensor.shape)
        if array.dtype != tensor.dtype:
            raise ConfigurationError(
                f"input {tensor.name} takes {np.dtype(tensor.dtype).name} values, got {array.dtype.name}"
            )
        if tuple(array.shape) in (tuple(shape), tuple(tensor.shape)):
            array = array.reshape(1, *shape)
        elif array.ndim >= 1 and tuple(array.shape[1:]) in (tuple(shape), tuple(tensor.shape)):
            array = array.reshape(len(array), *shape)
        else:
            raise ConfigurationError(
                f"input {tensor.name} takes arrays of shape {list(tensor.shape)} (or a batch of them), "
                f"got {list(array.shape)}"
            )
        if len(array) == 0:
            raise ConfigurationError(f"input {tensor.name}: no samples")
        arrays.append(np.ascontiguousarray(array))
    if len({len(array) for array in arrays}) != 1:
        raise ConfigurationError("every model input needs the same number of samples")
    return arrays


def _random_samples(tensor, generator, count=1):
    shape = (count, *_sample_shape(tensor.shape))
    dtype = np.dtype(tensor.dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return generator.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    return generator.standard_normal(shape).astype(dtype)


def _sample_shape(shape):
    shape = tuple(int(value) for value in shape)
    return shape[1:] if len(shape) > 1 and shape[0] == 1 else shape


def _check_tensors(run, model, built):
    graph = model.main
    expected = [graph.tensors[index].nbytes for index in graph.inputs]
    printed = [line.bytes for line in run.inputs]
    if printed != expected or len(run.outputs) != len(graph.outputs):
        raise RuntimeBackendError(
            f"the {built.engine} firmware for {model.source} reports inputs of {printed} bytes and "
            f"{len(run.outputs)} outputs; the model has inputs of {expected} bytes and {len(graph.outputs)} outputs"
        )


def _count_instructions(built, first_sample, user_run, timeout):
    """(instructions of the first input's inference, how counted); (None, why not) when it cannot be counted."""
    cpu = built.cpu
    try:
        qemu = toolchain.qemu_system()
    except ExternalToolError as error:
        return None, f"not counted: {error}"
    if cpu.board not in qemu.cpus:
        return None, f"not counted: {qemu.path} has no board {cpu.board} for {cpu.name}"
    board_run = runner.run_board(qemu, built, first_sample, timeout).output
    if 0 not in board_run.ticks:
        return None, f"not counted: the {built.engine} firmware printed no tick count"
    for position in range(len(user_run.outputs)):
        if board_run.values.get((0, position)) != user_run.values.get((0, position)):
            raise RuntimeBackendError(
                f"{cpu.name}: output {position} of input 0 differs between qemu-arm and qemu-system-arm -M {cpu.board}"
            )
    per_tick = cpu.instructions_per_tick
    instructions = int(round(board_run.ticks[0] * per_tick))
    note = (f"input 0 on qemu-system-arm -M {cpu.board} -icount shift=0: SysTick across Invoke(), "
            f"to within {per_tick:g} instructions")
    return instructions, note
