"""Checkpoints in the output directory's work area, so a killed run started again continues where it stopped.

After every epoch the chief writes DIR/.edgecnn-work/epoch-NNNN/ (model weights, optimizer state, history and
the run's settings) under a temporary name and renames it into place, then drops the one before: a run killed
at any moment leaves the last completed epoch intact. The same command started again checks that the settings
match, restores that epoch on the chief and sends it to every other worker, so no other machine needs files of
its own. A finished run deletes the work area.
"""

import json
import os
import pathlib
import re
import shutil
import tempfile

import numpy as np

from edgecnn.errors import ConfigurationError

WORK_AREA = ".edgecnn-work"
STATE_FILE = "state.json"
WEIGHTS_FILE = "weights.npz"
FORMAT = 1
EPOCH_FOLDER = re.compile(r"epoch-(\d{4,})$")


class WorkArea:
    def __init__(self, out_dir):
        self.path = pathlib.Path(out_dir) / WORK_AREA

    def checkpoints(self):
        """(epoch, folder) of the complete checkpoints, newest last."""
        if not self.path.is_dir():
            return []
        found = []
        for child in self.path.iterdir():
            match = EPOCH_FOLDER.match(child.name)
            if match and (child / STATE_FILE).is_file() and (child / WEIGHTS_FILE).is_file():
                found.append((int(match.group(1)), child))
        return sorted(found)

    def latest(self, settings):
        """(epochs done, history, folder) of the newest checkpoint of a run with `settings`, or None."""
        found = self.checkpoints()
        if not found:
            return None
        epoch, folder = found[-1]
        try:
            state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigurationError(f"cannot read the checkpoint {folder}: {error}; delete {self.path}") from error
        if state.get("format") != FORMAT or state.get("settings") != settings:
            difference = _difference(state.get("settings"), settings)
            raise ConfigurationError(
                f"{self.path} holds an interrupted run with other settings ({difference}): run it again with its "
                f"settings to resume, or delete {self.path} to start over"
            )
        return epoch, state["history"], folder

    def save(self, epoch, model, optimizer, history, settings):
        """The checkpoint after `epoch` epochs; older ones are removed once it is in place."""
        self.path.mkdir(parents=True, exist_ok=True)
        temporary = pathlib.Path(tempfile.mkdtemp(prefix=f".epoch-{epoch:04d}.", suffix=".part", dir=self.path))
        try:
            arrays = {f"model_{index}": value for index, value in enumerate(model.get_weights())}
            arrays.update({f"optimizer_{index}": variable.numpy() for index, variable in
                           enumerate(optimizer.variables)})
            with open(temporary / WEIGHTS_FILE, "wb") as handle:
                np.savez(handle, **arrays)
                handle.flush()
                os.fsync(handle.fileno())
            state = {"format": FORMAT, "epoch": epoch, "history": history, "settings": settings}
            (temporary / STATE_FILE).write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
            final = self.path / f"epoch-{epoch:04d}"
            shutil.rmtree(final, ignore_errors=True)
            os.replace(temporary, final)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        for older, folder in self.checkpoints():
            if older < epoch:
                shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def restore(folder, model, optimizer):
        with np.load(pathlib.Path(folder) / WEIGHTS_FILE) as arrays:
            model.set_weights([arrays[f"model_{index}"] for index in range(len(model.get_weights()))])
            for index, variable in enumerate(optimizer.variables):
                variable.assign(arrays[f"optimizer_{index}"])

    def image_cache(self):
        """Where a run with --no-cache keeps its decoded images until it ends."""
        return self.path / "images"

    def clean(self):
        shutil.rmtree(self.path, ignore_errors=True)


def broadcast_from_chief(strategy, variables, epoch):
    """Give every worker the chief's values of `variables` and its epoch count; returns that epoch count.

    Every worker calls it at the start of a multi-worker run, resumed or not: an all-reduce in which only the
    first replica (the chief's) contributes, so the sum is its value everywhere. Integers travel as float64.
    """
    import tensorflow as tf

    epoch_variable = tf.Variable(float(epoch), dtype=tf.float64, trainable=False)

    def contribute():
        context = tf.distribute.get_replica_context()
        first = context.replica_id_in_sync_group == 0
        values = [tf.cast(tf.convert_to_tensor(variable), tf.float64) for variable in variables]
        values.append(tf.convert_to_tensor(epoch_variable))
        values = [tf.where(first, value, tf.zeros_like(value)) for value in values]
        return context.all_reduce(tf.distribute.ReduceOp.SUM, values)

    summed = tf.function(lambda: strategy.run(contribute))()
    local = [strategy.experimental_local_results(value)[0] for value in summed]
    for variable, value in zip(variables, local[:-1]):
        variable.assign(tf.cast(value, variable.dtype))
    return int(round(float(local[-1].numpy())))


def _difference(saved, wanted):
    if not isinstance(saved, dict):
        return "unreadable settings"
    changed = [key for key in sorted(set(saved) | set(wanted)) if saved.get(key) != wanted.get(key)]
    return ", ".join(f"{key} {saved.get(key)!r} there, {wanted.get(key)!r} now" for key in changed[:3])
