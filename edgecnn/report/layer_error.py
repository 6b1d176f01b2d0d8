"""Where int8 loses accuracy: SQNR and cosine of each layer, int8 against float, over all evaluated images.

The int8 side is edgecnn's NumPy interpreter (bit-exact with TFLite's reference kernels), which keeps every
intermediate tensor; the float side is the Keras model's layer outputs, paired by verify.keras_layers. Images
go through in chunks and the sums behind SQNR and cosine accumulate, so memory stays that of one chunk.
"""

from edgecnn.data.encoding import InputEncoder
from edgecnn.errors import EdgecnnError
from edgecnn.verify import keras_layers

CHUNK_IMAGES = 64


def layer_errors(quantized_path, keras_model, preprocessing, dataset):
    """{"images", "rows", "notes", "worst"} over the images of `dataset` (opened with `preprocessing`), or
    {"skipped": reason}."""
    from edgecnn.reference import Interpreter

    try:
        interpreter = Interpreter(str(quantized_path), flavor="tflite")
    except EdgecnnError as error:
        return {"skipped": f"the NumPy int8 interpreter cannot run this model: {error}"}
    if len(interpreter.input_details) != 1:
        return {"skipped": "per-layer error needs a model with one input"}
    encoder = InputEncoder.for_tensor(preprocessing, interpreter.input_details[0])
    layers = keras_layers.comparable_layers(keras_model)
    pairs = keras_layers.pair_layers(interpreter, layers)
    sums = [None if tensor_index is None else keras_layers.ErrorSums() for tensor_index, _ in pairs]
    count = 0
    for batch in dataset.batches(CHUNK_IMAGES, progress=False):
        chunk = batch.pixels
        if count == 0:
            keras_layers.check_keras_inputs(keras_model, [encoder.floats(chunk[:1])], interpreter.source)
        count += len(chunk)
        run = interpreter.run(encoder.encode_pixels(chunk), keep_intermediates=True)
        outputs = keras_layers.layer_outputs(keras_model, layers, [encoder.floats(chunk)])
        for output, (tensor_index, _), layer_sums in zip(outputs, pairs, sums):
            if layer_sums is not None:
                layer_sums.add(output, run.dequantized(tensor_index))
    rows, notes = keras_layers.error_rows(layers, pairs, sums, interpreter)
    scored = [row for row in rows if row["sqnr_db"] is not None]
    worst = min(scored, key=lambda row: row["sqnr_db"])["layer"] if scored else None
    return {"images": int(count), "rows": rows, "notes": notes, "worst": worst}
