#!/usr/bin/env bash
# CNN Explainer's Tiny VGG on the synthetic shapes set (64x64 RGB, 3 classes).
set -euo pipefail
out=${1:-runs/tiny_vgg-shapes}
.venv/bin/edgecnn train tiny_vgg --dataset shapes --epochs 15 --learning-rate 3e-3 --seed 0 --out "$out"
.venv/bin/edgecnn quantize "$out/model.keras" --calibration shapes --samples 200 --out "$out/model_int8.tflite"
.venv/bin/edgecnn report --float "$out/model.keras" --quantized "$out/model_int8.tflite" --dataset shapes \
  --out "$out/report"
