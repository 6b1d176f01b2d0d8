"""Real training processes: killed and resumed, interrupted with Ctrl-C, two workers on 127.0.0.1, a lost peer."""

import json
import os
import pathlib
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]


def environment(**extra):
    values = {**os.environ, "PYTHONPATH": str(REPOSITORY), "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    values.pop("TF_CONFIG", None)
    values.update(extra)
    return values


class Run:
    """`python -m edgecnn ARGS` in the background, its stdout read line by line as it comes."""

    def __init__(self, *arguments, **extra_environment):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edgecnn", *map(str, arguments)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=environment(**extra_environment),
        )
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, prefix, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting {prefix!r} in {self.seen}; stderr: {self.stderr_now()}")

    def stderr_now(self):
        return "" if self.process.poll() is None else self.process.stderr.read()

    def finish(self, timeout=300):
        self.process.wait(timeout=timeout)
        while True:
            line = self.lines.get(timeout=10)
            if line is None:
                break
            self.seen.append(line)
        return self.process.returncode, self.seen, self.process.stderr.read()


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for item in sockets:
        item.bind(("127.0.0.1", 0))
    ports = [item.getsockname()[1] for item in sockets]
    for item in sockets:
        item.close()
    return ports


def tf_config(ports, index):
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


def test_killed_run_resumes_after_its_last_epoch_and_matches_an_uninterrupted_run(tmp_path):
    from edgecnn.artifacts import load_keras_model
    from edgecnn.train.trainer import train_model

    out = tmp_path / "run"
    arguments = ["train", "lenet5", "--dataset", "mnist-sample", "--limit", "3000", "--epochs", "4", "--augment",
                 "--seed", "7", "--out", out]
    first = Run(*arguments)
    first.wait_for("epoch 2/4")
    first.process.send_signal(signal.SIGKILL)  # as a pre-empted machine: no chance to clean up
    first.process.wait(timeout=30)
    assert not (out / "model.keras").exists() and (out / ".edgecnn-work").is_dir()
    code, lines, errors = Run(*arguments).finish()
    assert code == 0, errors
    resumed = next(line for line in lines if line.startswith("resuming after epoch"))
    done = int(resumed.split()[3])
    assert done >= 2 and resumed.startswith(f"resuming after epoch {done} of 4 from the checkpoint in ")
    assert [line.split(":")[0] for line in lines if line.startswith("epoch ")] == [
        f"epoch {epoch}/4" for epoch in range(done + 1, 5)]
    record = json.loads((out / "history.json").read_text())
    assert record["epochs"] == 4 and len(record["history"]["val_accuracy"]) == 4
    assert not (out / ".edgecnn-work").exists() and (out / "training_curves.png").is_file()
    # The resumed run continued the very sequence of batches and augmentation: same weights as no kill at all.
    whole = train_model("lenet5", "mnist-sample", tmp_path / "whole", epochs=4, seed=7, limit=3000, augment=True,
                        verbose=0)
    resumed_weights = load_keras_model(out / "model.keras").get_weights()
    for resumed_array, whole_array in zip(resumed_weights, load_keras_model(whole.model_path).get_weights()):
        np.testing.assert_allclose(resumed_array, whole_array, rtol=1e-5, atol=1e-6)


def test_ctrl_c_stops_at_once_with_one_line_and_leaves_no_model(tmp_path):
    out = tmp_path / "run"
    run = Run("train", "lenet5", "--dataset", "mnist-sample", "--epochs", "40", "--out", out)
    run.wait_for("epoch 1/40")
    interrupted_at = time.monotonic()
    run.process.send_signal(signal.SIGINT)
    code, lines, errors = run.finish(timeout=60)
    assert time.monotonic() - interrupted_at < 15
    assert code == 130
    assert errors.startswith("error: interrupted after epoch ") and errors.count("\n") == 1, errors
    assert "run the same command again to resume" in errors
    assert sorted(path.name for path in out.iterdir()) == [".edgecnn-work"]  # no model, no half-written file
    assert list((out / ".edgecnn-work").glob("epoch-*/weights.npz"))


def test_two_workers_train_like_one_process_and_only_the_chief_writes(tmp_path, trained_lenet):
    ports = free_ports(2)
    outs = [tmp_path / "chief", tmp_path / "worker"]
    runs = [Run("train", "lenet5", "--dataset", "mnist-sample", "--epochs", "2", "--strategy", "multi-worker",
                "--peer-timeout", "60", "--out", outs[index], TF_CONFIG=tf_config(ports, index))
            for index in range(2)]
    results = [run.finish(timeout=300) for run in runs]
    for code, _, errors in results:
        assert code == 0, errors
    assert results[0][1][-1].startswith(f"wrote {outs[0] / 'model.keras'}: test top-1 ")
    assert "(multi-worker, 2 replicas)" in results[0][1][-1]
    assert results[1][1][-1].endswith(f"the chief writes {outs[1]}")
    assert not outs[1].exists()  # the other worker wrote nothing into its --out
    accuracy = json.loads((outs[0] / "history.json").read_text())["test_accuracy"]
    # The same global batches as the one-process run of conftest's trained_lenet, summed over two replicas.
    assert abs(accuracy - trained_lenet["test_accuracy"]) < 0.01


def test_a_worker_that_cannot_reach_its_peer_fails_in_bounded_time_naming_it(tmp_path):
    ports = free_ports(2)
    started = time.monotonic()
    code, lines, errors = Run("train", "lenet5", "--dataset", "mnist-sample", "--peer-timeout", "3", "--out",
                              tmp_path / "run", TF_CONFIG=tf_config(ports, 0)).finish(timeout=120)
    assert time.monotonic() - started < 60
    assert code != 0
    assert errors == (f"error: cannot reach worker 1 at 127.0.0.1:{ports[1]} within 3 s: start the same command "
                      "on every machine TF_CONFIG lists, and check the address and that its port is open\n")
    assert not (tmp_path / "run").exists()
