import json

import numpy as np
from click.testing import CliRunner

from edgecnn.cli import main
from edgecnn.report import metrics


def test_metrics_on_hand_worked_values():
    probabilities = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.4, 0.35, 0.25]])
    labels = np.array([1, 1, 2, 1])
    assert metrics.top_k_accuracy(probabilities, labels, 1) == 0.5
    assert metrics.top_k_accuracy(probabilities, labels, 2) == 1.0
    predictions = probabilities.argmax(axis=1)
    assert metrics.confusion_matrix(labels, predictions, 3).tolist() == [[0, 0, 0], [2, 1, 0], [0, 0, 1]]
    assert metrics.per_class_accuracy(labels, predictions, 3) == [None, 1 / 3, 1.0]
    other = probabilities.copy()
    other[2] = [0.6, 0.3, 0.1]
    compared = metrics.compare(probabilities, other, labels, ["a", "b", "c"])
    assert compared["agreement"] == 0.75
    assert compared["flips"] == [{"index": 2, "label": "c", "float": "c", "float_score": 0.5,
                                  "quantized": "a", "quantized_score": 0.6}]


def test_report_command_writes_json_markdown_and_self_contained_html(trained_lenet, tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", "--float", str(trained_lenet["keras"]), "--quantized",
                                       str(trained_lenet["tflite"]), "--dataset", "mnist-sample", "--limit", "300",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["samples"] == 300
    for key in ("float", "quantized"):
        assert 0.8 < report[key]["top1"] <= report[key]["top5"] <= 1.0
        assert len(report[key]["per_class"]) == 10
        assert np.array(report[key]["confusion"]).sum() == 300
    assert 0.95 <= report["agreement"] <= 1.0
    assert len(report["flips"]) == round((1 - report["agreement"]) * 300)
    assert report["sizes"]["quantized_tflite_bytes"] < 0.35 * report["sizes"]["float_tflite_bytes"]
    assert report["latency_ms"]["quantized"] > 0 and report["latency_ms"]["float"] > 0
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 2
    assert "http://" not in html and "https://" not in html and "<script" not in html
    markdown = (out / "report.md").read_text()
    assert "| top-1 |" in markdown and "agreement" in markdown
    assert "top-1" in result.output and "agreement" in result.output


def test_report_refuses_models_that_do_not_match(trained_lenet, tmp_path):
    import keras

    other = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    other.save(tmp_path / "other.keras")
    result = CliRunner().invoke(main, ["report", "--float", str(tmp_path / "other.keras"), "--quantized",
                                       str(trained_lenet["tflite"]), "--dataset", "mnist-sample",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code != 0 and "not the same model" in result.output
    assert not (tmp_path / "out").exists()
