"""The pipeline from Python instead of the CLI: train, quantize to full int8, report int8 against float.

Run: .venv/bin/python examples/train_quantize_report.py [OUT_DIR]
"""

import pathlib
import sys

from edgecnn.quantize.pipeline import quantize_file
from edgecnn.report.evaluate import build_report, write_report
from edgecnn.train.trainer import train_model


def run(out_dir):
    trained = train_model("simple_cnn", "mnist-sample", out_dir, epochs=3, verbose=2)
    quantized = quantize_file(trained.model_path, out_dir / "model_int8.tflite", "mnist-sample", samples=200)
    report, images = build_report(trained.model_path, quantized.path, "mnist-sample")
    write_report(report, images, out_dir)
    print(f"float top-1 {report['float']['top1']:.4f}, int8 top-1 {report['quantized']['top1']:.4f}, "
          f"agreement {report['agreement']:.4f}; open {out_dir / 'report.html'}")


if __name__ == "__main__":
    run(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "runs/example"))
