"""The child process of distribute.PeerWatch: `python -m edgecnn.train.peer_watch TIMEOUT PEERS SIZE`.

Tries a TCP connection to each peer (PEERS: JSON [[description, host, port], ...]) until its parent closes
this process's stdin (the cluster formed) or TIMEOUT seconds pass; then it prints the parent's error line on
the stderr they share. The parent's faulthandler ends the parent itself.
"""

import json
import select
import socket
import sys
import time

from edgecnn.train.distribute import unreachable_message

CONNECT_ATTEMPT_SECONDS = 2.0
RETRY_SECONDS = 0.25


def answers(host, port, timeout):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def watch(timeout, peers, cluster_size, stdin=sys.stdin, stderr=sys.stderr):
    """0 when told to stop in time; else print the error line and return 1."""
    deadline = time.monotonic() + timeout
    unreached = list(peers)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([stdin], [], [], min(RETRY_SECONDS, remaining))
        if ready:  # end of input: the parent formed its cluster, or is gone
            return 0
        unreached = [peer for peer in unreached
                     if not answers(peer[1], peer[2], min(CONNECT_ATTEMPT_SECONDS, max(0.05, remaining)))]
    stderr.write("error: " + unreachable_message([peer[0] for peer in unreached], timeout, cluster_size) + "\n")
    stderr.flush()
    return 1


if __name__ == "__main__":
    sys.exit(watch(float(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])))
