"""Classify image files with a quantized model on whatever runtime the device has (no TensorFlow needed).

Run: .venv/bin/python examples/classify_images.py MODEL.tflite IMAGE [IMAGE ...]
"""

import sys

from edgecnn.data.folder import read_image
from edgecnn.runtime import Classifier


def run(model_path, image_paths):
    classifier = Classifier(model_path, backend="auto")
    print(f"running on {classifier.describe()}")
    for path in image_paths:
        pixels = read_image(path)
        if pixels is None:
            print(f"{path}: not a readable image")
            continue
        prediction = classifier.classify(pixels, k=3)
        ranked = ", ".join(f"{label} {score:.2f}" for label, score in prediction.top)
        print(f"{path}: {ranked}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    run(sys.argv[1], sys.argv[2:])
