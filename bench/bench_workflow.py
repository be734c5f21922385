"""Parse + summary of a 5,000-node ComfyUI workflow against plain json.loads of the same text.

    .venv/bin/python bench/bench_workflow.py

All cases run in this process on the same text, interleaved round by round so that the machine's
background load falls on each alike: medians of 9 rounds, then the peak traced memory (tracemalloc)
of one run each. Prints the ratios; asserts nothing.
"""

import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resources.workflow_svg import render_svg  # noqa: E402
from resources.workflows import parse_workflow  # noqa: E402
from tests.resources.workflow_samples import big_ui  # noqa: E402

RUNS = 9


def timed(cases: dict, text) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(RUNS):
        for name, fn in cases.items():
            started = time.perf_counter()
            fn(text)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def peak(fn, text) -> int:
    tracemalloc.start()
    try:
        fn(text)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    text = json.dumps(big_ui(5_000))
    print(f"workflow: 5,000 nodes, 4,999 links, {len(text):,} bytes of JSON")
    cases = {
        "json.loads (baseline)": json.loads,
        "parse_workflow (bounded parse + layout + summary)": parse_workflow,
        "parse_workflow + render_svg": lambda t: render_svg(parse_workflow(t)["layout"]),
    }
    medians = timed(cases, text)
    base_time = base_peak = None
    print(f"{'case':52} {'median s':>9} {'x time':>7} {'peak MiB':>9} {'x memory':>9}")
    for name, fn in cases.items():
        seconds, memory = medians[name], peak(fn, text)
        base_time, base_peak = base_time or seconds, base_peak or memory
        print(
            f"{name:52} {seconds:9.3f} {seconds / base_time:6.2f}x {memory / 2**20:9.1f} {memory / base_peak:8.2f}x"
        )


if __name__ == "__main__":
    main()
