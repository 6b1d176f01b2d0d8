"""Folders of real image files made here: layouts, splits, bad files, lazy and bounded reading, the cache."""

import json
import os
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest
from PIL import Image

from edgecnn.data import Preprocessing, decode, files, folder, open_dataset
from edgecnn.data.cache import ImageCache
from edgecnn.errors import DatasetError

TINY = Preprocessing(16, 16, 3)


def gradient(height, width, seed=0):
    """A smooth RGB picture whose left and top differ from its right and bottom (orientation is visible)."""
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    rng = np.random.default_rng(seed)
    red = 255 * columns / max(1, width - 1)
    green = 255 * rows / max(1, height - 1)
    blue = np.full_like(red, rng.integers(0, 256))
    return np.stack([red, green, blue], axis=2).round().astype(np.uint8)


def save(path, pixels, **options):
    path.parent.mkdir(parents=True, exist_ok=True)
    (pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)).save(path, **options)
    return path


def make_class_folder(root, per_class=6, classes=("cat", "dog"), size=(24, 32)):
    for label, name in enumerate(classes):
        for index in range(per_class):
            save(root / name / f"{index}.png", gradient(*size, seed=10 * label + index))
    return root


def read_all(dataset):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch = dataset.read()
    return batch, [str(warning.message) for warning in caught]


def test_bad_files_are_skipped_and_counted_in_one_warning_and_odd_formats_decode(tmp_path):
    root = tmp_path / "photos"
    good = root / "good"
    save(good / "plain.jpg", gradient(30, 40))
    save(good / "wide.png", gradient(10, 90))  # another size: everything is resized to the model's
    save(good / "gray.jpg", gradient(20, 20)[:, :, 0])
    save(good / "cmyk.jpg", Image.fromarray(gradient(20, 20)).convert("CMYK"), quality=95)
    sixteen = (np.arange(16 * 16, dtype=np.uint32).reshape(16, 16) * 256).astype(np.uint16)
    save(good / "deep.png", sixteen)
    palette = Image.fromarray(gradient(16, 16)).convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    palette.info["transparency"] = 0
    palette.save(good / "palette.png", transparency=0)
    exif = Image.Exif()
    exif[decode.EXIF_ORIENTATION] = 6  # stored sideways: shown rotated 90 degrees clockwise
    save(good / "rotated.png", gradient(12, 20), exif=exif.tobytes())
    bad = root / "bad"
    bad.mkdir()
    complete = (good / "plain.jpg").read_bytes()
    (bad / "truncated.jpg").write_bytes(complete[: len(complete) // 2])
    (bad / "notes.png").write_bytes(b"not an image at all")
    save(bad / "fine.png", gradient(16, 16))
    os.symlink("self.jpg", bad / "self.jpg")  # a symlink loop in a file's name
    os.symlink(bad, bad / "loop")  # and one in the folder tree: walked once, not forever
    (bad / "readme.txt").write_text("ignored: no image suffix")

    dataset = open_dataset(root, split="all", preprocessing=TINY)
    assert dataset.class_names == ["bad", "good"] and dataset.split == "all"
    assert len(dataset) == 7 + 4  # listed, not yet decoded
    batch, caught = read_all(dataset)
    assert batch.pixels.shape == (8, 16, 16, 3) and batch.pixels.dtype == np.uint8
    assert len(caught) == 1 and caught[0].startswith("skipped 3 unreadable image files under ")
    assert len(dataset) == 8 and dataset.labels.tolist() == [0] + [1] * 7
    assert read_all(dataset)[1] == []  # said once

    native = {path.rsplit("/", 1)[1]: decode.read_native(path) for path in dataset.paths}
    assert native["deep.png"].shape == (16, 16, 1)
    assert native["deep.png"][15, 15, 0] == round(255 * 255 * 256 / 65535)  # scaled, not clipped at 255
    assert native["cmyk.jpg"].shape == (20, 20, 3) and np.abs(
        native["cmyk.jpg"].astype(int) - gradient(20, 20)).mean() < 6
    assert native["palette.png"].shape == (16, 16, 3)
    upright = native["rotated.png"]
    assert upright.shape == (20, 12, 3)
    assert np.array_equal(upright, np.rot90(gradient(12, 20), k=-1))


def test_a_folder_without_images_or_classes_is_one_line_naming_it(tmp_path):
    (tmp_path / "loose").mkdir()
    save(tmp_path / "loose" / "a.png", gradient(8, 8))
    with pytest.raises(DatasetError, match=r"loose has no class sub-folders .*holds 1 images directly"):
        open_dataset(tmp_path / "loose")
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"empty has no readable images"):
        open_dataset(tmp_path / "empty")
    (tmp_path / "broken" / "cat").mkdir(parents=True)
    (tmp_path / "broken" / "cat" / "a.jpg").write_bytes(b"\xff\xd8 not really")
    with pytest.raises(DatasetError, match=r"broken has no readable images .*1 file could not be decoded"):
        open_dataset(tmp_path / "broken", preprocessing=TINY).read()


def test_split_layouts_and_what_evaluating_a_folder_means(tmp_path):
    plain = make_class_folder(tmp_path / "plain", per_class=10)
    assert open_dataset(plain).split == "all" and len(open_dataset(plain)) == 20
    train, test = open_dataset(plain, split="train"), open_dataset(plain, split="test")
    assert (len(train), len(test)) == (16, 4) and np.bincount(test.labels).tolist() == [2, 2]
    assert not set(train.paths) & set(test.paths) and set(train.paths) | set(test.paths) == set(open_dataset(
        plain).paths)

    ultralytics = tmp_path / "shipped"
    make_class_folder(ultralytics / "train", per_class=5)
    make_class_folder(ultralytics / "val", per_class=2, classes=("cat", "dog", "eel"))
    evaluated = open_dataset(ultralytics)
    assert evaluated.split == "test" and len(evaluated) == 6
    assert evaluated.class_names == ["cat", "dog", "eel"]
    assert len(open_dataset(ultralytics, split="train")) == 10 and len(open_dataset(ultralytics, split="all")) == 16
    assert open_dataset(ultralytics, split="train").labels.max() == 1


def test_stable_split_moves_at_most_the_boundary_file(tmp_path):
    root = make_class_folder(tmp_path / "grow", per_class=20, classes=("only",))
    before_test = set(open_dataset(root, split="test").paths)
    save(root / "only" / "new.png", gradient(24, 32, seed=999))
    after_test = set(open_dataset(root, split="test").paths)
    assert len(before_test) == 4 and len(after_test) == 4
    assert len(before_test - after_test) <= 1  # at most one old test image moved to train


def test_reads_are_lazy_and_bounded_and_keep_order(tmp_path, monkeypatch):
    root = make_class_folder(tmp_path / "many", per_class=30)
    decoded, active, peak = [], [0], [0]
    lock = threading.Lock()
    original = decode.read_image

    def slow_read(path, preprocessing):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            decoded.append(path)
        time.sleep(0.01)
        try:
            return original(path, preprocessing)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(decode, "read_image", slow_read)
    dataset = open_dataset(root, split="all", preprocessing=TINY, cache=False)
    assert decoded == []  # opening lists files, decodes none
    sample = dataset.take(5, seed=3)
    pixels = sample.read().pixels
    assert len(pixels) == 5
    reader = dataset.reader
    assert len(decoded) <= 5 + reader.workers * files.IN_FLIGHT_PER_WORKER  # not the folder's 60
    assert peak[0] <= reader.workers
    decoded.clear()
    ordered = dataset.head(12).read()
    assert ordered.positions.tolist() == list(range(12))
    expected = np.stack([original(path, TINY) for path in dataset.paths[:12]])
    assert np.array_equal(ordered.pixels, expected)


def test_cache_entries_are_keyed_by_file_and_size_and_shared_by_two_processes(tmp_path):
    root = make_class_folder(tmp_path / "cached", per_class=8)
    cache_dir = tmp_path / "cache"
    script = (
        "import sys, numpy as np\n"
        "from edgecnn.data import Preprocessing, open_dataset\n"
        f"pixels = open_dataset({str(root)!r}, split='all', preprocessing=Preprocessing(16, 16, 3),"
        f" cache={str(cache_dir)!r}).read().pixels\n"
        "sys.stdout.write(str(int(pixels.astype(np.int64).sum())))\n"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    runs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=environment, text=True) for _ in range(2)]
    results = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), results
    direct = open_dataset(root, split="all", preprocessing=TINY, cache=False).read().pixels
    assert results[0][0] == results[1][0] == str(int(direct.astype(np.int64).sum()))
    entries = sorted(cache_dir.rglob("*.u8"))
    assert len(entries) == 16 and not list(cache_dir.rglob("*.part"))
    assert all(entry.stat().st_size == 16 * 16 * 3 for entry in entries)

    cache = ImageCache(cache_dir)
    path = sorted(root.rglob("*.png"))[0]
    key = cache.key(path, os.stat(path), TINY)
    assert key != cache.key(path, os.stat(path), Preprocessing(16, 16, 1))
    assert key != cache.key(path, os.stat(path), Preprocessing(20, 16, 3))
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 1000))
    assert cache.key(path, os.stat(path), TINY) != key  # an edited file is decoded again
    assert cache.load(key, TINY.input_shape) is not None
    cache.pixels_path(key).write_bytes(b"short")  # a damaged entry is a miss, not garbage
    assert cache.load(key, TINY.input_shape) is None


def test_draft_decoding_gives_every_reader_the_same_pixels(tmp_path):
    """The dataset, its cache and the camera's image source decode a photo alike, at a reduced JPEG scale."""
    from edgecnn.camera.sources import open_source

    exif = Image.Exif()
    exif[decode.EXIF_ORIENTATION] = 8
    noise = np.random.default_rng(1).integers(0, 40, (600, 800, 3))
    photo = np.clip(gradient(600, 800).astype(int) + noise, 0, 255).astype(np.uint8)
    path = save(tmp_path / "photos" / "dog" / "big.jpg", photo, quality=90, exif=exif.tobytes())
    model = Preprocessing(40, 30, 3)
    expected = decode.read_image(str(path), model)
    assert expected.shape == (40, 30, 3)
    reduced = decode.decode_file(str(path), (40, 30))
    assert reduced.shape == (100, 75, 3)  # 1/8 of 800x600, turned upright
    full = model.prepare_pixels([decode.read_native(str(path))])[0]
    assert not np.array_equal(full, expected)  # reduced decoding really happened (pixels differ slightly)
    assert np.abs(full.astype(int) - expected).mean() < 4
    cold = open_dataset(tmp_path / "photos", preprocessing=model, cache=tmp_path / "cache").read().pixels[0]
    warm = open_dataset(tmp_path / "photos", preprocessing=model, cache=tmp_path / "cache").read().pixels[0]
    assert np.array_equal(cold, expected) and np.array_equal(warm, expected)
    source = open_source(str(tmp_path / "photos" / "dog"), image_size=(40, 30))
    source.open()
    frame = source.read()  # BGR, as every source gives frames
    assert np.array_equal(model.prepare_pixels([frame[:, :, ::-1]])[0], expected)


def test_progress_bar_only_on_a_terminal():
    import io

    from edgecnn.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        with Progress(400, "decoding photos/", stream=stream, minimum_total=300) as bar:
            for _ in range(400):
                bar.advance()
    assert "decoding photos/ [" in terminal.getvalue() and "400/400" in terminal.getvalue()
    assert "images/s" in terminal.getvalue() and pipe.getvalue() == ""
    quiet = Terminal()
    with Progress(100, "few", stream=quiet, minimum_total=300) as bar:
        bar.advance(100)
    assert quiet.getvalue() == ""


def test_listing_follows_linked_folders(tmp_path):
    root = make_class_folder(tmp_path / "linked", per_class=3)
    os.symlink(root / "cat", root / "dog" / "cats-again")  # a second way to the same folder
    listing = folder.list_folder(root)
    names = [os.path.basename(path) for path in listing.splits["all"].paths]
    assert len(names) == 9 and sorted(json.dumps(names).count(f'"{index}.png"') for index in range(3)) == [3, 3, 3]
