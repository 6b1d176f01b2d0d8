"""`edgecnn zoo`: the table, JSON output and one-line errors."""

import json

from click.testing import CliRunner

import edgecnn.zoo as zoo
from edgecnn.cli import main


def run(*arguments):
    return CliRunner().invoke(main, ["zoo", *arguments])


def test_table_lists_every_model_with_its_numbers():
    result = run()
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    headers = ["model", "input", "parameters", "MACs", "float32", "int8", "receptive", "field"]
    assert lines[0].split() == headers
    assert [line.split()[0] for line in lines[1:]] == zoo.list_models()
    lenet = next(line for line in lines if line.startswith("lenet5")).split()
    assert lenet[:4] == ["lenet5", "28x28x1", "61,706", "416.5K"]
    assert lenet[-1] == "16"


def test_json_output_for_a_pattern_with_options():
    result = run("lenet5", "--option", "activation=sigmoid", "--num-classes", "3", "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["name"] == "lenet5"
    assert row["input_shape"] == [28, 28, 1]
    assert row["options"] == {"activation": "sigmoid", "pooling": "max"}
    assert row["parameters"] == 61_706 - 7 * 85
    assert row["float32_bytes"] == 4 * row["parameters"]
    assert row["receptive_field"] == 16


def test_input_shape_override_and_errors():
    result = run("resnet*", "--input-shape", "16x16x1", "--json")
    assert result.exit_code == 0, result.output
    assert [row["input_shape"] for row in json.loads(result.output)] == [[16, 16, 1]] * 3

    result = run("nonexistent*")
    assert result.exit_code == 2
    assert "error: no zoo model matches 'nonexistent*'; models: alexnet, lenet5" in result.output
    result = run("vgg11", "--input-shape", "16x16x3")
    assert result.exit_code == 2 and "too small for 'vgg11'" in result.output
    result = run("resnet*", "--option", "width=2")
    assert result.exit_code == 2 and "--option needs PATTERN to name one model" in result.output
    result = run("lenet5", "--input-shape", "28x28")
    assert result.exit_code == 2 and "--input-shape must look like 32x32x3" in result.output
