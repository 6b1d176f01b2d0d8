"""PyTorch models (issue 13): conversion time, float against int8, and which input layout runs best.

1. `edgecnn quantize` wall time, as a user runs it (a fresh process, imports included), for the PyTorch
   SimpleCNN (examples/pytorch_simple_cnn.py) over the same network from the Keras zoo (simple_cnn): both
   with 200 calibration images of mnist-sample.
2. float and int8 top-1 of the PyTorch SimpleCNN on the 2,000 test digits (`edgecnn report`), both MODEL forms
   and both input layouts: target int8 within 0.5 point of float.
3. The input layout: instructions per invoke of the NCHW .tflite over the NHWC one (litert XNNPACK, LiteRT's
   reference kernels, TFLite Micro), counted by valgrind's callgrind inside the runtime's invoke (times on a
   shared 2-core machine varied more than the difference), and TFLite Micro's arena, for SimpleCNN (one
   channel: NCHW adds a RESHAPE) and a 3-channel CNN at 64x64 (NCHW adds a TRANSPOSE).

    .venv/bin/python benchmarks/torch_figures.py [--out runs/torch_figures] [--epochs 2]

Needs the torch extra (prints a note and exits 0 without it) and TensorFlow for the Keras baseline.
"""

import argparse
import importlib.util
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPOSITORY = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = REPOSITORY / "examples" / "pytorch_simple_cnn.py"
RGB_MODEL = '''
import torch
from torch import nn


class RGBNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.pool1 = nn.Conv2d(3, 16, 3, padding=1), nn.MaxPool2d(2)
        self.conv2, self.pool2 = nn.Conv2d(16, 32, 3, padding=1), nn.MaxPool2d(2)
        self.mean, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(32, 3)

    def forward(self, x):
        x = self.pool2(torch.relu(self.conv2(self.pool1(torch.relu(self.conv1(x))))))
        return self.fc(torch.flatten(self.mean(x), 1))


def build():
    torch.manual_seed(0)
    return RGBNet()
'''


def run_edgecnn(*arguments):
    """Run the CLI in a fresh process; return its wall time and CPU time (user + system) in seconds.

    CPU time moves less than wall time when other processes share the machine's two cores.
    """
    start, cpu_start = time.perf_counter(), child_cpu_seconds()
    result = subprocess.run([sys.executable, "-m", "edgecnn", *map(str, arguments)], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        sys.exit(f"edgecnn {' '.join(map(str, arguments))} failed:\n{result.stdout}{result.stderr}")
    return time.perf_counter() - start, child_cpu_seconds() - cpu_start


def child_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_example():
    spec = importlib.util.spec_from_file_location("pytorch_simple_cnn", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# What callgrind counts: only inside each runtime's invoke, so start-up and Python are left out.
INVOKE_FUNCTIONS = {"litert": "*Subgraph::InvokeImpl*", "litert-ref": "*Subgraph::InvokeImpl*",
                    "tflm": "*MicroInterpreter::Invoke*"}
INVOKES = 2


def invoke_model(path, runtime_name, count):
    """Run the model `count` times on zeros (what callgrind watches; see instructions_per_invoke)."""
    if runtime_name == "tflm":
        from tflite_micro.python.tflite_micro import runtime

        from edgecnn import tflite

        graph = tflite.read_model(path).main
        micro = runtime.Interpreter.from_file(path)
        values = np.zeros(graph.tensors[graph.inputs[0]].shape, np.int8)
        for _ in range(count):
            micro.set_input(values, 0)
            micro.invoke()
        return
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_REF if runtime_name == "litert-ref" else OpResolverType.AUTO
    interpreter = Interpreter(model_path=path, experimental_op_resolver_type=resolver, num_threads=1)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    values = np.zeros(detail["shape"], detail["dtype"])
    for _ in range(count):
        interpreter.set_tensor(detail["index"], values)
        interpreter.invoke()


def instructions_per_invoke(path, runtime_name, directory):
    """Instructions one invoke executes, counted by valgrind's callgrind: the same on a busy machine."""
    counts = directory / f"callgrind.{pathlib.Path(path).stem}.{runtime_name}"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={counts}",
                    f"--toggle-collect={INVOKE_FUNCTIONS[runtime_name]}", sys.executable, __file__, "--invoke",
                    str(path), runtime_name, str(INVOKES)], capture_output=True, check=True)
    summary = next(line for line in counts.read_text().splitlines() if line.startswith("summary:"))
    return int(summary.split()[1]) / INVOKES


def layout_rows(name, nchw, nhwc, directory):
    from edgecnn import tflite
    from edgecnn.export import measure

    rows = []
    first_ops = {layout: tflite.read_model(str(path)).main.operators[0].name
                 for layout, path in (("nchw", nchw), ("nhwc", nhwc))}
    rows.append((f"{name}: first op NCHW / NHWC", f"{first_ops['nchw']} / {first_ops['nhwc']}", "-"))
    if shutil.which("valgrind"):
        for runtime_name in INVOKE_FUNCTIONS:
            slow, fast = (instructions_per_invoke(path, runtime_name, directory) for path in (nchw, nhwc))
            rows.append((f"{name}: instructions per invoke NCHW / NHWC, {runtime_name}",
                         f"{slow / fast:.4f} ({slow:,.0f} / {fast:,.0f})", ">= 1: NHWC runs less"))
    else:
        rows.append((f"{name}: instructions per invoke", "valgrind not installed", "-"))
    arenas = {layout: measure.measure_arena(str(path)).total_bytes for layout, path in (("nchw", nchw), ("nhwc", nhwc))}
    rows.append((f"{name}: TFLite Micro arena NCHW / NHWC", f"{arenas['nchw'] / arenas['nhwc']:.4f} "
                 f"({arenas['nchw']} / {arenas['nhwc']} B)", "-"))
    return rows


def run():
    if sys.argv[1:2] == ["--invoke"]:  # the process callgrind watches
        invoke_model(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/torch_figures")
    parser.add_argument("--epochs", type=int, default=2)
    arguments = parser.parse_args()
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("litert_torch") is None:
        print('torch_figures: the torch extra is not installed (pip install "edgecnn[torch]"); skipped')
        return 0
    out = pathlib.Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    example = load_example()
    start = time.perf_counter()
    model = example.train(arguments.epochs)
    train_seconds = time.perf_counter() - start
    weights, program = example.save(model, out)
    function = f"{EXAMPLE}:build"
    quantize = ("--calibration", "mnist-sample", "--samples", 200)
    rows = [("PyTorch SimpleCNN training (epochs, seconds)", f"{arguments.epochs}, {train_seconds:.1f}", "-")]

    import edgecnn.zoo.classic  # noqa: F401 - registers simple_cnn
    from edgecnn.zoo.registry import create_model

    # Conversion time does not depend on the weights: the Keras twin is untrained.
    create_model("simple_cnn", input_shape=(28, 28, 1), num_classes=10).save(out / "simple_cnn.keras")
    keras_seconds = run_edgecnn("quantize", out / "simple_cnn.keras", *quantize, "--out", out / "keras_int8.tflite")
    torch_seconds = run_edgecnn("quantize", function, "--weights", weights, "--input-shape", "1x28x28", *quantize,
                            "--out", out / "nhwc.tflite")
    run_edgecnn("quantize", program, "--input-layout", "nchw", *quantize, "--out", out / "nchw.tflite")
    for index, kind in enumerate(("wall", "CPU")):
        rows.append((f"quantize {kind} time: PyTorch / Keras (seconds)",
                     f"{torch_seconds[index] / keras_seconds[index]:.2f} "
                     f"({torch_seconds[index]:.1f} / {keras_seconds[index]:.1f})", "-"))

    passed = True
    for label, float_arguments, quantized in (
        ("module.py:function, NHWC", (function, "--weights", weights, "--input-shape", "1x28x28"), "nhwc.tflite"),
        (".pt2, NCHW", (program,), "nchw.tflite"),
    ):
        report_dir = out / f"report_{quantized.split('.')[0]}"
        run_edgecnn("report", "--float", *float_arguments, "--quantized", out / quantized, "--dataset", "mnist-sample",
                "--out", report_dir)
        report = json.loads((report_dir / "report.json").read_text())
        float_top1, int8_top1 = report["float"]["top1"], report["quantized"]["top1"]
        ok = int8_top1 >= float_top1 - 0.005
        passed &= ok
        rows.append((f"top-1 float / int8, {label}", f"{float_top1:.4f} / {int8_top1:.4f}",
                     f"int8 within 0.5 point: {'ok' if ok else 'MISSED'}"))

    rows += layout_rows("SimpleCNN 1x28x28", out / "nchw.tflite", out / "nhwc.tflite", out)
    (out / "rgb_net.py").write_text(RGB_MODEL)
    for layout in ("nchw", "nhwc"):
        run_edgecnn("quantize", f"{out / 'rgb_net.py'}:build", "--input-shape", "3x64x64", "--input-layout", layout,
                "--calibration", "shapes", "--samples", 100, "--out", out / f"rgb_{layout}.tflite")
    rows += layout_rows("3-channel CNN 3x64x64", out / "rgb_nchw.tflite", out / "rgb_nhwc.tflite", out)

    width = max(len(row[0]) for row in rows)
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:<28} {note}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(run())
