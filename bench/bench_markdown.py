"""Benchmark: render_markdown on adversarial inputs grows linearly with their length.

    cd /work/main && .venv/bin/python bench/bench_markdown.py [--sizes 10000,20000,40000] [--repeat 5]

Times models_app.text.render_markdown (markdown-it-py, then the nh3 sanitiser), the function that
renders a description when it is written, on each input of INPUTS at each size (characters),
interleaved, --repeat runs each. It prints the median time per size, the ratio between successive
sizes (linear: about 2.0x when the size doubles, quadratic 4.0x; the old Python-Markdown renderer
took 0.9 s for 2,000 `[` and 14.9 s for 8,000), the ratio between the largest and the smallest size,
and each input's time against plain prose of the same length, measured in the same run. It prints
numbers and asserts nothing.

INPUTS holds the patterns that make Markdown parsers backtrack (most from cmark's pathological
tests); tests/models_app/test_markdown.py renders the same ones at the length limit.
No Django settings needed: models_app.text imports no Django.
"""

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from models_app.text import render_markdown  # noqa: E402


def _repeat(unit: str, n: int) -> str:
    """`unit` repeated to exactly n characters."""
    return (unit * (n // len(unit) + 1))[:n]


def _prose(n: int) -> str:
    sentence = "The quick brown fox jumps over the lazy dog, then naps in the warm afternoon sun. "
    return _repeat(sentence * 5 + "\n\n", n)  # paragraphs of about 400 characters


def _nested_lists(n: int) -> str:
    return "".join("  " * (i % 200) + "* a\n" for i in range(n // 4 + 1))[:n]


def _backtick_runs(n: int) -> str:
    out, i = [], 1
    while sum(map(len, out)) < n:
        out.append("e" + "`" * i)
        i = i % 300 + 1
    return "".join(out)[:n]


def _nested_brackets(n: int) -> str:
    return "[" * (n // 2) + "a" + "]" * (n - n // 2 - 1)


def _references(n: int) -> str:
    definitions = "".join(f"[{i}]: /u\n" for i in range(n // 20))
    return definitions + _repeat("[0] ", n - len(definitions))


# name -> a function giving that input at n characters. The first is the baseline.
INPUTS = {
    "plain prose (baseline)": _prose,
    "[a]( repeated": lambda n: _repeat("[a](", n),
    "[ repeated": lambda n: "[" * n,
    "![a]( repeated": lambda n: _repeat("![a](", n),
    "[a link openers": lambda n: _repeat("[a", n),
    "nested brackets [[[a]]]": _nested_brackets,
    "nested > quotes": lambda n: _repeat("> ", n - 1) + "a",
    "nested lists": _nested_lists,
    "* run": lambda n: "*" * n,
    "*a **a nested emphasis": lambda n: _repeat("*a **a ", n // 2) + _repeat(" a** a*", n - n // 2),
    "_a emphasis openers": lambda n: _repeat("_a ", n),
    "* and _ mismatched": lambda n: _repeat("*a_ ", n),
    "` run": lambda n: "`" * n,
    "backtick runs e` e`` ...": _backtick_runs,
    "unclosed links [a](<b": lambda n: _repeat("[a](<b", n),
    "table rows": lambda n: "a|b\n-|-\n" + _repeat("x|y\n", n - 8),
    "link references": _references,
    "< autolink opener": lambda n: "<" + "a" * (n - 1),
    "&a entities": lambda n: _repeat("&a", n),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,20000,40000", help="input lengths in characters")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the median is shown")
    opts = parser.parse_args()
    sizes = [int(s) for s in opts.sizes.split(",")]

    texts = {(name, n): make(n) for name, make in INPUTS.items() for n in sizes}
    for (name, n), text in texts.items():
        assert len(text) == n, (name, n, len(text))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"{opts.repeat} runs each, interleaved; median milliseconds\n")

    for name in INPUTS:  # warm-up: first calls fill the parser's caches
        render_markdown(texts[name, sizes[0]])
    times: dict[tuple[str, int], list[float]] = {key: [] for key in texts}
    for _ in range(opts.repeat):
        for key, text in texts.items():
            gc.collect()
            gc.disable()  # as timeit does: a collection inside one run is noise
            t = time.perf_counter()
            render_markdown(text)
            times[key].append(time.perf_counter() - t)
            gc.enable()
    med = {key: statistics.median(values) * 1000 for key, values in times.items()}

    baseline = next(iter(INPUTS))
    first, last = sizes[0], sizes[-1]
    pairs = list(zip(sizes, sizes[1:], strict=False))
    header = [f"{n // 1000}k ms" for n in sizes] + [f"{b // 1000}k/{a // 1000}k" for a, b in pairs]
    header += [f"{last // 1000}k/{first // 1000}k", f"x prose {last // 1000}k"]
    print(f"{'input':28}" + "".join(f"{h:>14}" for h in header))
    worst = worst_overall = 0.0
    for name in INPUTS:
        ratios = [med[name, b] / med[name, a] for a, b in pairs]
        overall = med[name, last] / med[name, first]
        if name != baseline:
            worst, worst_overall = max(worst, *ratios), max(worst_overall, overall)
        row = [f"{med[name, n]:14.1f}" for n in sizes] + [f"{r:13.2f}x" for r in ratios]
        row += [f"{overall:13.2f}x", f"{med[name, last] / med[baseline, last]:13.1f}x"]
        print(f"{name:28}" + "".join(row))
    print(
        f"\nlargest growth per doubling: {worst:.2f}x (linear 2.0x, quadratic 4.0x); "
        f"largest {last // 1000}k/{first // 1000}k: {worst_overall:.2f}x "
        f"(linear {last / first:.1f}x, quadratic {(last / first) ** 2:.1f}x)"
    )


if __name__ == "__main__":
    main()
