"""Training on one device, on every local GPU, or on several machines (tf.distribute).

Machines are configured the standard way, with the TF_CONFIG environment variable: every worker runs the same
command with the same cluster and its own task. The chief (task "chief", else worker 0) writes the outputs.

TensorFlow waits for missing peers without limit, ignoring SIGTERM, so forming the cluster is watched: a child
process checks that every peer's port accepts a TCP connection, and when the cluster has not formed after
`peer_timeout` seconds the worker ends with one line naming the address it could not reach.
"""

import dataclasses
import json
import os
import socket
import sys

from edgecnn.errors import ConfigurationError, EdgecnnError
from edgecnn.registry import Registry

PEER_TIMEOUT_SECONDS = 120.0
# After the watcher's line, how long before this process is ended; TensorFlow's own timeout comes later still.
WATCH_GRACE_SECONDS = 1.5
TENSORFLOW_TIMEOUT_MARGIN_SECONDS = 10.0


@dataclasses.dataclass(frozen=True)
class StrategySpec:
    name: str
    description: str


STRATEGIES = Registry("strategy", [
    StrategySpec("auto", "multi-worker when TF_CONFIG names a cluster, mirrored with several GPUs, else one-device"),
    StrategySpec("one-device", "one GPU (or the CPU)"),
    StrategySpec("mirrored", "tf.distribute.MirroredStrategy: every local GPU, batches split between them"),
    StrategySpec("multi-worker", "tf.distribute.MultiWorkerMirroredStrategy across the machines TF_CONFIG names"),
], error=ConfigurationError)


class PeerUnreachable(EdgecnnError):
    """A worker of the cluster could not be reached, or the cluster did not form in time."""


@dataclasses.dataclass(frozen=True)
class Task:
    job: str
    index: int
    address: str

    def __str__(self):
        return f"{self.job} {self.index} at {self.address}"


@dataclasses.dataclass(frozen=True)
class Cluster:
    """The cluster TF_CONFIG describes, from this task's point of view."""

    tasks: tuple
    this: Task

    @property
    def size(self):
        return len(self.tasks)

    @property
    def peers(self):
        return [task for task in self.tasks if task != self.this]

    @property
    def chief(self):
        chiefs = [task for task in self.tasks if task.job == "chief"]
        return chiefs[0] if chiefs else next(task for task in self.tasks if task.job == "worker")

    @property
    def is_chief(self):
        return self.this == self.chief

    def task_named(self, job, index):
        return next((task for task in self.tasks if (task.job, task.index) == (job, index)), None)


def cluster_from_environment(environment=None):
    """The Cluster in TF_CONFIG, or None when TF_CONFIG is unset or names a single task."""
    text = (os.environ if environment is None else environment).get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
        cluster = config["cluster"]
        task = config.get("task", {})
        tasks = tuple(
            Task(job, index, str(address))
            for job in ("chief", "worker")
            for index, address in enumerate(cluster.get(job, []))
        )
        this = next(item for item in tasks if (item.job, item.index) == (task["type"], int(task["index"])))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ConfigurationError(f"TF_CONFIG is not a valid cluster configuration ({error!r}): {text[:200]}") from None
    except StopIteration:
        raise ConfigurationError(f"TF_CONFIG's task is not one of its cluster's chief or worker tasks: {text[:200]}") \
            from None
    if not [item for item in tasks if item.job == "worker"] and len(tasks) > 1:
        raise ConfigurationError("TF_CONFIG's cluster has no worker tasks")
    return Cluster(tasks, this) if len(tasks) > 1 else None


def resolve_strategy_name(name, cluster, gpu_count):
    name = STRATEGIES.canonical(name)
    if name == "auto":
        if cluster is not None:
            return "multi-worker"
        return "mirrored" if gpu_count > 1 else "one-device"
    if name == "multi-worker" and cluster is None:
        raise ConfigurationError(
            "--strategy multi-worker needs TF_CONFIG naming the cluster, e.g. "
            'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", '
            '"index": 0}}\' on the first machine (index 1 on the second)'
        )
    return name


def create_strategy(name, cluster=None, peer_timeout=PEER_TIMEOUT_SECONDS):
    """The tf.distribute strategy for `name`; for multi-worker, waits at most `peer_timeout` for the cluster."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    name = resolve_strategy_name(name, cluster, len(gpus))
    if name == "one-device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0"), name
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(), name
    return form_cluster(cluster, peer_timeout), name


def form_cluster(cluster, peer_timeout):
    """MultiWorkerMirroredStrategy for `cluster`, or PeerUnreachable (or, if TF hangs, exit) after the timeout."""
    import tensorflow as tf

    check_own_port(cluster.this)
    _configure_coordination(cluster, peer_timeout + TENSORFLOW_TIMEOUT_MARGIN_SECONDS)
    watch = PeerWatch(cluster, peer_timeout)
    watch.start()
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    except Exception as error:  # TF's own registration timeout: DeadlineExceededError and kin
        watch.stop()
        raise PeerUnreachable(
            f"the cluster of {cluster.size} tasks did not form ({first_line(error)}): start the same command on "
            f"every machine TF_CONFIG lists"
        ) from error
    watch.stop()
    return strategy


def check_own_port(task):
    """Fail at once, naming the address, when this task's port is taken (TF would fail obscurely later)."""
    host, _, port = task.address.rpartition(":")
    if not port.isdigit():
        raise ConfigurationError(f"TF_CONFIG address {task.address!r} of {task.job} {task.index} has no port")
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds: only a listener is in the way
    try:
        probe.bind(("", int(port)))
    except OSError as error:
        if error.errno == 98:  # EADDRINUSE; other errors (a host that is not this one) are TF's to report
            raise PeerUnreachable(
                f"cannot listen on {task.address} ({task.job} {task.index} in TF_CONFIG): the port is in use"
            ) from None
    finally:
        probe.close()


def _configure_coordination(cluster, peer_timeout):
    """TensorFlow's own registration timeout, where this TensorFlow exposes it (non-chief tasks honour it)."""
    try:
        from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
        from tensorflow.python.eager import context
    except ImportError:
        return
    jobs = sorted({task.job for task in cluster.tasks}, key=("chief", "worker").index)
    leader = cluster.chief
    try:
        context.context().configure_coordination_service(
            service_type="standalone",
            service_leader=f"/job:{leader.job}/replica:0/task:{leader.index}",
            coordinated_jobs=[
                coordination_config_pb2.CoordinatedJob(name=job, num_tasks=sum(t.job == job for t in cluster.tasks))
                for job in jobs
            ],
            cluster_register_timeout_in_ms=int(peer_timeout * 1000),
        )
    except (AttributeError, TypeError, ValueError):
        pass


class PeerWatch:
    """Ends this process, after one line naming the address it could not reach, when the cluster has not formed
    within `timeout`.

    TensorFlow holds the GIL while it waits for the cluster, so no Python thread of this process runs then:
    a small child process (edgecnn.train.peer_watch) checks the peers' ports and prints the line, and
    faulthandler's C watchdog ends this process a moment later.
    """

    def __init__(self, cluster, timeout):
        self.cluster = cluster
        self.timeout = float(timeout)
        self.child = None
        self.sink = None

    def start(self):
        import faulthandler
        import subprocess

        peers = [[str(task), *split_address(task.address)] for task in self.cluster.peers]
        self.child = subprocess.Popen(
            [sys.executable, "-m", "edgecnn.train.peer_watch", repr(self.timeout), json.dumps(peers),
             str(self.cluster.size)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, close_fds=True,
        )
        self.sink = open(os.devnull, "w")  # noqa: SIM115 - faulthandler keeps writing to it until cancelled
        faulthandler.dump_traceback_later(self.timeout + WATCH_GRACE_SECONDS, exit=True, file=self.sink)

    def stop(self):
        import faulthandler

        faulthandler.cancel_dump_traceback_later()
        if self.child is not None:
            self.child.stdin.close()  # end of input: the cluster formed (or this process failed otherwise)
            self.child.wait()
            self.child = None
        if self.sink is not None:
            self.sink.close()
            self.sink = None


def split_address(address):
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port) if port.isdigit() else 0


def unreachable_message(unreached, timeout, cluster_size):
    """What a worker says when the cluster did not form: the first peer it could not reach, if any."""
    if unreached:
        return (f"cannot reach {unreached[0]} within {timeout:g} s: start the same command on every machine "
                f"TF_CONFIG lists, and check the address and that its port is open")
    return (f"the cluster of {cluster_size} tasks did not form within {timeout:g} s although every peer's port "
            f"answers: do they all run this command with the same TF_CONFIG cluster?")


def first_line(error):
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
