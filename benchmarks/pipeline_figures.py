"""Issue 2's figures: the demo (lenet5 on mnist-sample) and tiny_vgg on shapes, float against int8.

Run: .venv/bin/python benchmarks/pipeline_figures.py [--out runs/figures] [--skip-demo] [--skip-tiny-vgg]
Prints each figure against its target and exits 1 when one is missed. Takes several minutes (it trains).
"""

import argparse
import json
import pathlib
import sys

from click.testing import CliRunner

from edgecnn.cli import main

TINY_VGG_EPOCHS = 15
TINY_VGG_LEARNING_RATE = 3e-3


def invoke(*arguments):
    result = CliRunner().invoke(main, [str(argument) for argument in arguments], catch_exceptions=False)
    if result.exit_code != 0:
        sys.exit(f"edgecnn {' '.join(map(str, arguments))} failed:\n{result.output}")
    return result.output


def check(rows, name, value, target, passed):
    rows.append((name, value, target, passed))


def demo_figures(out, rows):
    invoke("demo", "--out", out / "demo")
    report = json.loads((out / "demo" / "report.json").read_text())
    float_top1, int8_top1 = report["float"]["top1"], report["quantized"]["top1"]
    check(rows, "demo float top-1", f"{float_top1:.4f}", ">= 0.980", float_top1 >= 0.98)
    check(rows, "demo int8 - float top-1 (points)", f"{100 * (int8_top1 - float_top1):+.2f}", ">= -0.30",
          int8_top1 >= float_top1 - 0.003)
    check(rows, "demo int8/float agreement", f"{report['agreement']:.4f}", ">= 0.995", report["agreement"] >= 0.995)
    ratio = report["sizes"]["quantized_to_float_ratio"]
    check(rows, "demo int8 .tflite / float .tflite size", f"{ratio:.3f}", "<= 0.30", ratio <= 0.30)


def tiny_vgg_figures(out, rows):
    directory = out / "tiny_vgg_shapes"
    invoke("train", "tiny_vgg", "--dataset", "shapes", "--epochs", TINY_VGG_EPOCHS, "--learning-rate",
           TINY_VGG_LEARNING_RATE, "--out", directory)
    invoke("quantize", directory / "model.keras", "--calibration", "shapes", "--out", directory / "model_int8.tflite")
    invoke("report", "--float", directory / "model.keras", "--quantized", directory / "model_int8.tflite",
           "--dataset", "shapes", "--out", directory / "report")
    report = json.loads((directory / "report" / "report.json").read_text())
    float_top1, int8_top1 = report["float"]["top1"], report["quantized"]["top1"]
    check(rows, "tiny_vgg shapes float top-1", f"{float_top1:.4f}", ">= 0.950", float_top1 >= 0.95)
    check(rows, "tiny_vgg shapes int8 top-1", f"{int8_top1:.4f}", ">= 0.950 and within 1 point",
          int8_top1 >= 0.95 and int8_top1 >= float_top1 - 0.01)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/figures")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-tiny-vgg", action="store_true")
    return parser.parse_args()


def run():
    arguments = parse_arguments()
    out = pathlib.Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    if not arguments.skip_demo:
        demo_figures(out, rows)
    if not arguments.skip_tiny_vgg:
        tiny_vgg_figures(out, rows)
    return print_figures(rows)


def print_figures(rows, target_width=28):
    """Print (name, value, target, passed) rows as a table; 0 when every figure passed, else 1."""
    width = max(len(row[0]) for row in rows)
    for name, value, target, passed in rows:
        print(f"{name.ljust(width)}  {value:>8}  target {target:<{target_width}} {'ok' if passed else 'MISSED'}")
    return 0 if all(row[3] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(run())
