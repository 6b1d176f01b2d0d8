"""`edgecnn emulate MODEL.tflite --cpu CPU`: the model's firmware (TFLite Micro or edgecnn's generated C), run
on an emulated Cortex-M."""

import json
import pathlib

import click

from edgecnn.commands import options
from edgecnn.emulate.cpus import CPUS
from edgecnn.emulate.engines import ENGINES
from edgecnn.emulate.library import DEFAULT_OPTIMIZATION, OPTIMIZATIONS
from edgecnn.emulate.runner import DEFAULT_TIMEOUT
from edgecnn.errors import ConfigurationError


def _parse_cpus(value):
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise ConfigurationError("--cpu names no CPU")
    return [CPUS.canonical(name) for name in dict.fromkeys(names)]


@click.command(name="emulate")
@click.argument("model_path", metavar="MODEL.tflite", type=click.Path(dir_okay=False))
@click.option("--cpu", "cpu_names", default="cortex-m4", show_default=True, metavar="CPU[,CPU...]",
              help=f"Emulated CPUs: {', '.join(CPUS.names())}.")
@click.option("--tflm-root", type=click.Path(file_okay=False), metavar="DIR",
              help="TFLite Micro source tree made by create_tflm_tree.py (default: $EDGECNN_TFLM_ROOT); "
                   "one with third_party/cmsis_nn runs the CMSIS-NN kernels.")
@click.option("--engine", default="tflm", show_default=True, type=click.Choice(ENGINES.names()),
              help="What runs the model in the firmware: TFLite Micro, or edgecnn's generated C (export --target "
                   "c; its CMSIS-NN build when --tflm-root has CMSIS-NN).")
@click.option("--optimize", "optimization", default=DEFAULT_OPTIMIZATION, show_default=True,
              type=click.Choice(list(OPTIMIZATIONS)),
              help="Compile TFLite Micro and the firmware for speed (-O2) or size (-Os).")
@click.option("--random", "random_count", type=options.Count(), metavar="N",
              help="Feed N uniform random inputs (the default, with N = 1).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for --random and the --dataset order.")
@click.option("--dataset", "dataset_spec", metavar="SPEC", help="Feed this dataset's test images and print the "
              "top-1 accuracy (name or folder; preprocessed as the model's metadata says).")
@click.option("--limit", type=options.Count(), metavar="N", help="At most N images of --dataset (default: all).")
@options.dataset_reading("Images of --dataset (default: the test split; every image of a plain folder).")
@click.option("--input", "input_path", type=click.Path(dir_okay=False, exists=True), metavar="FILE.npy",
              help="Feed an int8 or uint8 array of the model's input shape, or a batch of them.")
@click.option("--arena-size", type=click.IntRange(min=16), metavar="BYTES",
              help="Build the firmware with this arena instead of the exported kTensorArenaSize.")
@click.option("--count/--no-count", "count_instructions", default=True, show_default=True,
              help="Count instructions per inference on the CPU's board (qemu-system-arm -icount).")
@click.option("--timeout", default=DEFAULT_TIMEOUT, show_default=True, type=click.FloatRange(min=0, min_open=True),
              metavar="SECONDS", help="Stop a run that prints nothing for this long (an emulated hang).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also write the results as JSON (an object; a list of them for several CPUs).")
def command(model_path, cpu_names, tflm_root, engine, optimization, random_count, seed, dataset_spec, limit, split,
            cache, input_path, arena_size, count_instructions, timeout, json_path):
    """Build MODEL's firmware (edgecnn's TFLite Micro export, or its generated C, and a harness) for an emulated
    Cortex-M, run it under QEMU and print its outputs, arena, flash, RAM and instructions per inference.

    TFLite Micro is compiled for each CPU the first time (minutes) and cached under ~/.cache/edgecnn/tflm.
    Needs arm-none-eabi-gcc with newlib and QEMU 8 or later (qemu-arm; qemu-system-arm for the count).
    """
    from edgecnn import atomic, emulate, tflite
    from edgecnn.emulate import text

    cpus = _parse_cpus(cpu_names)
    given = [name for name, value in (("--random", random_count), ("--dataset", dataset_spec),
                                      ("--input", input_path)) if value is not None]
    if len(given) > 1:
        raise ConfigurationError(f"give one of --random, --dataset and --input, not {' and '.join(given)}")
    for name, value in (("--limit", limit), ("--split", split)):
        if value is not None and dataset_spec is None:
            raise ConfigurationError(f"{name} applies to --dataset")
    if json_path is not None:
        atomic.check_parent_directory(json_path)
    model = tflite.read_model(model_path)
    inputs = _inputs(model, model_path, random_count, seed, dataset_spec, limit, split, cache, input_path)
    results = [
        emulate.run_model(model_path, cpu=cpu, inputs=inputs.quantized, engine=engine, tflm_root=tflm_root,
                          count_instructions=count_instructions, arena_size=arena_size, timeout=timeout,
                          optimization=optimization)
        for cpu in cpus
    ]
    click.echo(text.format_results(results, inputs.description, labels=inputs.labels,
                                   scores=_output_scale(model)))
    if json_path is not None:
        documents = []
        for result in results:
            document = result.to_dict()
            document["inputs"] = inputs.description
            if inputs.labels is not None:
                classes = result.top_classes()
                document["accuracy"] = sum(int(a == b) for a, b in zip(classes, inputs.labels)) / len(classes)
            documents.append(document)
        atomic.write_text(json_path, json.dumps(documents[0] if len(documents) == 1 else documents, indent=1) + "\n")
        click.echo(f"wrote {json_path}")


def _inputs(model, model_path, random_count, seed, dataset_spec, limit, split, cache, input_path):
    """verify's input helpers (one place for how images become model inputs), or the array of --input."""
    import numpy as np

    from edgecnn import verify
    from edgecnn.verify.inputs import VerifyInputs

    described = verify.ModelInputs.of(model)
    if dataset_spec is not None:
        return verify.dataset_inputs(described, dataset_spec, limit, seed, split=split, cache=cache)
    if input_path is None:
        return verify.random_inputs(described, random_count or 1, seed)
    if len(described.input_details) != 1:
        raise ConfigurationError(f"--input feeds models with one input; {model_path} has "
                                 f"{len(described.input_details)}")
    try:
        array = np.load(input_path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"--input {input_path} is not a .npy array: {error}") from error
    from edgecnn.emulate import emulation

    arrays = emulation.model_inputs(model, [array])
    return VerifyInputs(arrays, [], f"{len(arrays[0])} inputs from {pathlib.Path(input_path).name}")


def _output_scale(model):
    tensor = model.main.tensors[model.main.outputs[0]]
    quantization = tensor.quantization
    if not quantization.is_quantized:
        return None
    return float(quantization.scales[0]), int(quantization.zero_points[0])
