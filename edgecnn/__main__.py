from edgecnn.cli import run

run()
