"""Issue 12's figures: datasets that stream. Ratios against baselines measured in the same run.

Run: .venv/bin/python benchmarks/data_figures.py [--work runs/data-figures] [--photos 1000]

1. Peak memory (and wall time) of `edgecnn quantize --calibration FOLDER --samples 50` on 1,000 JPEGs of
   4000x3000 against the same command on 60 of them, and on the bundled digits; each in its own process,
   measured with wait4's ru_maxrss, with a cold image cache.
2. Decode-and-resize throughput of edgecnn's loader against keras.utils.image_dataset_from_directory on the same
   folder and size (both use this machine's cores), on phone photos and on 640x480 JPEGs.
3. Training throughput from a folder with a warm cache against the same images in memory: images per second
   of the process's CPU time (steady when other processes share the machine) and of wall time.

The photos are synthesized once into --work (about 0.5 GB, a few minutes) and reused by later runs: smooth
random fields, each different, upsampled to 12 megapixels and saved at JPEG quality 60, a third of them
stored sideways with an EXIF orientation, as phones do.
Prints each figure against its target and exits 1 when one is missed.
"""

import argparse
import multiprocessing
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from pipeline_figures import print_figures

REPOSITORY = pathlib.Path(__file__).resolve().parents[1]
PHOTO_SIZE = (4000, 3000)  # width, height
CLASSES = ("beach", "city", "forest")
SMALL_PHOTOS = 60
SAMPLES = 50


def synthesize_photo(arguments):
    """One 12-megapixel JPEG of its own content (a seeded random field, smoothly upsampled)."""
    path, seed = arguments
    from PIL import Image

    rng = np.random.default_rng(seed)
    field = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    image = Image.fromarray(field).resize(PHOTO_SIZE, Image.BICUBIC)
    exif = Image.Exif()
    exif[0x0112] = 6 if seed % 3 == 0 else 1
    image.save(path, quality=60, exif=exif.tobytes())


def photo_folder(root, count):
    """`count` photos in three class folders, made once and reused."""
    paths = [root / CLASSES[index % 3] / f"IMG_{index:04d}.jpg" for index in range(count)]
    missing = [(path, index) for index, path in enumerate(paths) if not path.is_file()]
    if missing:
        for name in CLASSES:
            (root / name).mkdir(parents=True, exist_ok=True)
        print(f"synthesizing {len(missing)} photos of {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} in {root} ...", flush=True)
        with multiprocessing.Pool(os.cpu_count()) as pool:
            pool.map(synthesize_photo, missing, chunksize=4)
    return root


def linked_subset(source, target, count):
    """The first `count` photos of `source` (hard links, so no copy) in the same class folders."""
    if target.exists():
        shutil.rmtree(target)
    for index in range(count):
        name = f"{CLASSES[index % 3]}/IMG_{index:04d}.jpg"
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        os.link(source / name, target / name)
    return target


def small_jpegs(root, count=1000):
    """640x480 JPEGs of the shapes dataset's kind of content, for the decode comparison."""
    from PIL import Image

    if len(list(root.rglob("*.jpg"))) >= count:
        return root
    rng = np.random.default_rng(0)
    for index in range(count):
        folder = root / CLASSES[index % 3]
        folder.mkdir(parents=True, exist_ok=True)
        field = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        Image.fromarray(field).resize((640, 480), Image.BICUBIC).save(folder / f"{index:04d}.jpg", quality=85)
    return root


def run_measured(arguments):
    """Run `python -m edgecnn ARGUMENTS` in a child; (peak RSS in MB, wall seconds, CPU seconds) from wait4."""
    started = time.perf_counter()
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "TF_CPP_MIN_LOG_LEVEL": "3"}
    child = subprocess.Popen([sys.executable, "-m", "edgecnn", *map(str, arguments)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=environment)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    output = child.stdout.read().decode() + child.stderr.read().decode()
    if child.returncode != 0:
        sys.exit(f"edgecnn {' '.join(map(str, arguments))} failed:\n{output}")
    return usage.ru_maxrss / 1024, seconds, usage.ru_utime + usage.ru_stime


def save_models(work):
    """An untrained tiny_vgg (64x64x3) and lenet5 (28x28x1): quantization's memory does not depend on training."""
    import keras

    from edgecnn.zoo import create_model

    paths = {}
    for name, shape in (("tiny_vgg", (64, 64, 3)), ("lenet5", (28, 28, 1))):
        paths[name] = work / f"{name}.keras"
        if not paths[name].is_file():
            keras.utils.set_random_seed(0)
            create_model(name, input_shape=shape, num_classes=3 if name == "tiny_vgg" else 10).save(paths[name])
    return paths


def memory_figures(work, photos, models, rows, rounds=3):
    many = photo_folder(work / "photos", photos)
    few = linked_subset(many, work / f"photos-{SMALL_PHOTOS}", SMALL_PHOTOS)
    runs = {"digits": [], "60": [], "1000": []}
    for _ in range(rounds):  # alternating, so the load of a shared machine falls on all three alike
        for label, model, spec in (("digits", models["lenet5"], "mnist-sample"), ("60", models["tiny_vgg"], few),
                                   ("1000", models["tiny_vgg"], many)):
            with tempfile.TemporaryDirectory() as cache:  # a cold cache: every sample is decoded
                runs[label].append(run_measured(["quantize", model, "--calibration", spec, "--samples", SAMPLES,
                                                 "--cache", cache, "--out", work / f"quantized-{label}.tflite"]))
    peak = {label: max(run[0] for run in values) for label, values in runs.items()}
    wall = {label: statistics.median(run[1] for run in values) for label, values in runs.items()}
    cpu = {label: statistics.median(run[2] for run in values) for label, values in runs.items()}
    for label in runs:
        print(f"quantize on {label}: peak RSS {peak[label]:.0f} MB, median {wall[label]:.1f} s wall, "
              f"{cpu[label]:.1f} s CPU", flush=True)
    rows.append((f"quantize --samples {SAMPLES}: peak RSS {photos} photos / 60 photos",
                 f"{peak['1000'] / peak['60']:.3f}", "<= 1.10", peak["1000"] <= 1.10 * peak["60"]))
    rows.append((f"quantize --samples {SAMPLES}: peak RSS on {photos} photos (MB)", f"{peak['1000']:.0f}",
                 "< 1024", peak["1000"] < 1024))
    rows.append((f"quantize --samples {SAMPLES}: peak RSS on the digits (MB)", f"{peak['digits']:.0f}",
                 "(reference)", True))
    rows.append((f"quantize --samples {SAMPLES}: wall time {photos} photos / 60 photos",
                 f"{wall['1000'] / wall['60']:.3f}", "<= 1.50", wall["1000"] <= 1.5 * wall["60"]))
    rows.append((f"quantize --samples {SAMPLES}: CPU time {photos} photos / 60 photos",
                 f"{cpu['1000'] / cpu['60']:.3f}", "(reference)", True))
    return many


def decode_rate(folder, size, repeats=3):
    """Images per wall second and per CPU second (all threads of this process) of edgecnn's loader (no cache)
    and of keras.utils.image_dataset_from_directory, best of `repeats` alternating runs."""
    import keras

    from edgecnn.data import Preprocessing, open_dataset

    for path in folder.rglob("*.jpg"):  # both read from the page cache, not the disk
        path.read_bytes()

    def ours():
        dataset = open_dataset(folder, split="all", preprocessing=Preprocessing(*size, 3), cache=False)
        return sum(len(batch) for batch in dataset.batches(64, progress=False))

    def theirs():
        loaded = keras.utils.image_dataset_from_directory(folder, image_size=size, batch_size=64, shuffle=False,
                                                          verbose=False)
        return sum(int(images.shape[0]) for images, _ in loaded)

    rates = {("edgecnn", "wall"): [], ("edgecnn", "cpu"): [], ("keras", "wall"): [], ("keras", "cpu"): []}
    for _ in range(repeats):
        for name, read in (("edgecnn", ours), ("keras", theirs)):
            started, started_cpu = time.perf_counter(), time.process_time()
            count = read()
            rates[name, "wall"].append(count / (time.perf_counter() - started))
            rates[name, "cpu"].append(count / (time.process_time() - started_cpu))
    return {key: max(values) for key, values in rates.items()}


def decode_figures(work, photos_folder, rows):
    subset = linked_subset(photos_folder, work / "photos-200", 200)
    for label, folder, size in (("200 photos of 4000x3000 -> 224x224", subset, (224, 224)),
                                ("1,000 JPEGs of 640x480 -> 224x224", small_jpegs(work / "jpegs-640"), (224, 224))):
        rates = decode_rate(folder, size)
        print(f"decode {label}: edgecnn {rates['edgecnn', 'wall']:.1f} images/s "
              f"({rates['edgecnn', 'cpu']:.1f} per CPU second), keras {rates['keras', 'wall']:.1f} images/s "
              f"({rates['keras', 'cpu']:.1f} per CPU second)", flush=True)
        wall = rates["edgecnn", "wall"] / rates["keras", "wall"]
        cpu = rates["edgecnn", "cpu"] / rates["keras", "cpu"]
        rows.append((f"decode+resize {label}: edgecnn / image_dataset_from_directory, images/s", f"{wall:.2f}",
                     ">= 1.0", wall >= 1.0))
        rows.append((f"decode+resize {label}: same, images per CPU second", f"{cpu:.2f}", "(reference)", True))


def training_figures(work, rows, epochs=4, rounds=3):
    """tiny_vgg on 2,430 shapes images: from a folder of PNGs with a warm cache, and from the same pixels in
    memory, in alternating runs (this machine is shared: alternating spreads its load over both)."""
    from PIL import Image

    from edgecnn.data import ArrayDataset, Preprocessing, load_dataset, open_dataset
    from edgecnn.train.trainer import train_model

    folder = work / "shapes-png"
    if not folder.is_dir():
        shapes = load_dataset("shapes", split="train")
        for index, (pixels, label) in enumerate(zip(shapes.images, shapes.labels)):
            target = folder / shapes.class_names[label] / f"{index:04d}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(target)
    cache = work / "shapes-cache"
    preprocessing = Preprocessing(64, 64, 3)
    prepared = open_dataset(folder, split="train", preprocessing=preprocessing, cache=cache).prepare()  # warm
    batch = prepared.read(progress=False)
    in_memory = ArrayDataset("shapes-in-memory", batch.pixels, batch.labels, prepared.class_names)
    trained = len(prepared) - max(1, int(len(prepared) * 0.1))  # less the validation images
    seconds = {(label, clock): [] for label in ("memory", "folder") for clock in ("wall", "cpu")}
    for _ in range(rounds):
        for label, spec in (("memory", in_memory), ("folder", folder)):
            history = train_model("tiny_vgg", spec, work / f"train-{label}", epochs=epochs, cache=cache,
                                  verbose=0).history
            # The first epoch also traces the step.
            seconds[label, "wall"].extend(history["epoch_seconds"][1:])
            seconds[label, "cpu"].extend(history["epoch_cpu_seconds"][1:])
    rates = {key: trained / statistics.median(values) for key, values in seconds.items()}
    for (label, clock), rate in rates.items():
        print(f"training tiny_vgg from {label}: {rate:.0f} images per {clock} second "
              f"(median of {len(seconds[label, clock])} epochs)", flush=True)
    cpu_ratio = rates["folder", "cpu"] / rates["memory", "cpu"]
    rows.append(("training images per CPU second: folder with a warm cache / in memory", f"{cpu_ratio:.3f}",
                 ">= 0.90", cpu_ratio >= 0.90))
    wall_ratio = rates["folder", "wall"] / rates["memory", "wall"]
    rows.append(("training images per second (wall; noisy on a shared machine): folder / in memory",
                 f"{wall_ratio:.3f}", "(reference)", True))


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="runs/data-figures", help="Where the synthesized photos are kept.")
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-decode", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    return parser.parse_args()


def run():
    arguments = parse_arguments()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    work = pathlib.Path(arguments.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    photos = photo_folder(work / "photos", arguments.photos)  # before TensorFlow is imported: it forks
    models = save_models(work)
    if not arguments.skip_memory:
        memory_figures(work, arguments.photos, models, rows)
    if not arguments.skip_decode:
        decode_figures(work, photos, rows)
    if not arguments.skip_training:
        training_figures(work, rows)
    return print_figures(rows, target_width=12)


if __name__ == "__main__":
    sys.exit(run())
