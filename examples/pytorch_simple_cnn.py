"""The seed's SimpleCNN in PyTorch, trained on the bundled digits, saved in both forms `edgecnn quantize` takes.

conv3x3 32 - pool - conv3x3 64 - pool - fc 128 - fc 10 (the zoo's simple_cnn: "same" padding, ReLU), on 1x28x28
images scaled to [0, 1] (edgecnn's default preprocessing); it returns logits, where the zoo's model ends in a
softmax, because a final softmax stays float32 through litert-torch's quantizer.

Writes OUT_DIR/weights.pt (the state_dict, for `pytorch_simple_cnn.py:build --weights`) and OUT_DIR/simple_cnn.pt2
(torch.export.save). Needs the torch extra.

Run: .venv/bin/python examples/pytorch_simple_cnn.py [OUT_DIR] [--epochs N]
Then:
    edgecnn quantize examples/pytorch_simple_cnn.py:build --weights OUT_DIR/weights.pt --input-shape 1x28x28 \
        --calibration mnist-sample --out OUT_DIR/int8.tflite
"""

import argparse
import pathlib

import numpy as np
import torch
from torch import nn

INPUT_SHAPE = (1, 28, 28)  # C, H, W: as PyTorch takes it


class SimpleCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        # One pooling module per use: litert-torch's quantizer cannot prepare a module instance called twice.
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.pool1(torch.relu(self.conv1(x)))
        x = self.pool2(torch.relu(self.conv2(x)))
        x = torch.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


def build():
    """The entry point for `edgecnn quantize pytorch_simple_cnn.py:build`."""
    return SimpleCNN()


def digits(split):
    """mnist-sample images as (N, 1, 28, 28) float32 in [0, 1], and their labels."""
    from edgecnn.data import load_dataset
    from edgecnn.data.preprocessing import Preprocessing

    preprocessing = Preprocessing(28, 28, 1)
    dataset = load_dataset("mnist-sample", preprocessing, split=split)
    images = np.ascontiguousarray(np.moveaxis(dataset.inputs(preprocessing), -1, 1))
    return torch.from_numpy(images), torch.from_numpy(dataset.labels.astype(np.int64))


def train(epochs=1, limit=None, seed=0, batch_size=64):
    """A SimpleCNN trained with Adam on the training split (the first `limit` images), in eval mode."""
    torch.manual_seed(seed)
    images, labels = digits("train")
    if limit:
        images, labels = images[:limit], labels[:limit]
    model = SimpleCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
            loss.backward()
            optimizer.step()
    return model.eval()


def save(model, out_dir):
    """OUT_DIR/weights.pt and OUT_DIR/simple_cnn.pt2; returns their paths."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights, program = out_dir / "weights.pt", out_dir / "simple_cnn.pt2"
    torch.save(model.state_dict(), weights)
    torch.export.save(torch.export.export(model, (torch.zeros(1, *INPUT_SHAPE),)), program)
    return weights, program


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="runs/pytorch_simple_cnn")
    parser.add_argument("--epochs", type=int, default=2)
    arguments = parser.parse_args()
    model = train(arguments.epochs)
    images, labels = digits("test")
    with torch.no_grad():
        accuracy = float((model(images).argmax(1) == labels).float().mean())
    weights, program = save(model, arguments.out_dir)
    print(f"float top-1 on the {len(labels)} test digits: {accuracy:.4f}; wrote {weights} and {program}")


if __name__ == "__main__":
    main()
