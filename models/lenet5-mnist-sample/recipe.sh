#!/usr/bin/env bash
# lenet5 on the bundled MNIST digits: what `edgecnn demo` runs, step by step.
set -euo pipefail
out=${1:-runs/lenet5-mnist-sample}
.venv/bin/edgecnn train lenet5 --dataset mnist-sample --epochs 30 --learning-rate 2e-3 --augment --seed 0 --out "$out"
.venv/bin/edgecnn quantize "$out/model.keras" --calibration mnist-sample --samples 200 --out "$out/model_int8.tflite"
.venv/bin/edgecnn report --float "$out/model.keras" --quantized "$out/model_int8.tflite" --dataset mnist-sample \
  --out "$out/report"
