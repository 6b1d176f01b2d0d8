"""Classification metrics from predicted probabilities for `edgecnn report`: pure NumPy."""

import numpy as np


def top_k_accuracy(probabilities, labels, k):
    """Fraction of samples whose label is among the k highest scores (ties broken by index)."""
    k = min(k, probabilities.shape[1])
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1))) if len(labels) else 0.0


def confusion_matrix(labels, predictions, num_classes):
    """counts[true, predicted]."""
    counts = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def per_class_accuracy(labels, predictions, num_classes):
    """Recall of each class; None for a class with no samples."""
    result = []
    for class_index in range(num_classes):
        members = labels == class_index
        result.append(float(np.mean(predictions[members] == class_index)) if members.any() else None)
    return result


def summarize(probabilities, labels, num_classes):
    predictions = np.argmax(probabilities, axis=1)
    return {
        "top1": top_k_accuracy(probabilities, labels, 1),
        "top5": top_k_accuracy(probabilities, labels, 5),
        "per_class": per_class_accuracy(labels, predictions, num_classes),
        "confusion": confusion_matrix(labels, predictions, num_classes).tolist(),
    }


def compare(float_probabilities, quantized_probabilities, labels, class_names):
    """Both models' metrics, how often they agree, and every sample whose prediction flips."""
    num_classes = len(class_names)
    float_predictions = np.argmax(float_probabilities, axis=1)
    quantized_predictions = np.argmax(quantized_probabilities, axis=1)
    flipped = np.flatnonzero(float_predictions != quantized_predictions)
    flips = [
        {
            "index": int(index),
            "label": class_names[labels[index]],
            "float": class_names[float_predictions[index]],
            "float_score": float(float_probabilities[index, float_predictions[index]]),
            "quantized": class_names[quantized_predictions[index]],
            "quantized_score": float(quantized_probabilities[index, quantized_predictions[index]]),
        }
        for index in flipped
    ]
    return {
        "samples": int(len(labels)),
        "classes": list(class_names),
        "float": summarize(float_probabilities, labels, num_classes),
        "quantized": summarize(quantized_probabilities, labels, num_classes),
        "agreement": float(np.mean(float_predictions == quantized_predictions)) if len(labels) else 0.0,
        "max_probability_difference": float(np.max(np.abs(float_probabilities - quantized_probabilities)))
        if len(labels) else 0.0,
        "flips": flips,
    }
