"""PyTorch models for the bad-input cases of `edgecnn quantize`, each given as torch_bad_models.py:FUNCTION."""

import torch
from torch import nn


class _Features(nn.Module):
    """A small convolution the other models build on: 1x28x28 -> 8x13x13."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(torch.relu(self.conv(x)))


class _SortsPixels(nn.Module):
    """torch.unique has no TFLite lowering in litert-torch."""

    def forward(self, x):
        return torch.unique(x).reshape(1, -1)[:, :10]


class _NormalizesChannels(nn.Module):
    """Converts, but LayerNorm is not annotated either: a float island between DEQUANTIZE and QUANTIZE."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.norm = nn.LayerNorm(26)
        self.fc = nn.Linear(8 * 26 * 26, 10)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.norm(self.conv(x))), 1))


class _Classifier(nn.Module):
    """The features, flattened, then one linear layer: a network SimpleCNN's weights do not fit."""

    def __init__(self):
        super().__init__()
        self.features = _Features()
        self.fc = nn.Linear(8 * 13 * 13, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


class _EndsInSoftmax(_Classifier):
    """Converts, but the PT2E quantizer does not annotate torch.softmax: the last op stays float32."""

    def forward(self, x):
        return torch.softmax(super().forward(x), dim=-1)


def returns_a_dict():
    return {"conv": nn.Conv2d(1, 8, 3)}


def not_lowerable():
    return _SortsPixels()


def ends_in_softmax():
    return _EndsInSoftmax()


def layer_norm():
    return _NormalizesChannels()


def other_network():
    return _Classifier()
