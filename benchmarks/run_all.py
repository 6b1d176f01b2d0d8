"""Run every benchmark in this folder, one after another, each in its own process (`make bench`).

Each script prints its own table of ratios against a baseline measured in the same run. Exits 1 when any
script failed (a missed figure or an error), after running all of them.
"""

import pathlib
import subprocess
import sys


def main():
    folder = pathlib.Path(__file__).resolve().parent
    failed = []
    for script in sorted(folder.glob("*.py")):
        if script.name == pathlib.Path(__file__).name:
            continue
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], check=False).returncode != 0:
            failed.append(script.name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
