"""Benchmark: wildcard expansion latency, the hub's guarded path against dynamicprompts run directly.

    cd /work/main && .venv/bin/python bench/bench_wildcards.py [--repeat 15] [--lists 50] [--values 200]

A pack of --lists lists of --values values each, and a template that uses three of them plus a
variant. Times, interleaved, median (and min) of --repeat runs:

  (a) plain random.choice over the same lists, 100 prompts: the floor (no template language);
  (b) dynamicprompts' RandomPromptGenerator in this process over the whole pack, 100 prompts: the
      library as a plain integration would call it (the baseline);
  (c) resources.wildcard_worker.expand in this process over the lists the template uses: the hub's
      expansion without its process wrapper;
  (d) resources.wildcards.expand_template, random, 100 prompts: cycle/cap checks, the used lists only,
      a fork-server child with a memory limit and a kill on timeout (what the API runs);
  (e) CombinatorialPromptGenerator over the whole pack, 100 prompts;
  (f) expand in this process, combinatorial: 100 prompts and the count (to 10,000 or 1 s);
  (g) expand_template, combinatorial: the same through the wrapper.

It prints (d)/(c) and (g)/(f), the wrapper's overhead, (d)/(b), the hub against the plain library,
and (b)/(a). The first call of (d) starts the fork server (reported separately as "cold"). No Django
settings needed.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from dynamicprompts.generators import CombinatorialPromptGenerator, RandomPromptGenerator  # noqa: E402
from dynamicprompts.wildcards import WildcardManager  # noqa: E402

from resources import wildcards  # noqa: E402
from resources.wildcard_worker import expand, root_map  # noqa: E402

TEMPLATE = "a __subject/l1__ in __style/l2__ style, {red|blue|green} light, __l3__"
COUNT = 100


def make_pack(n_lists: int, n_values: int) -> dict[str, list[str]]:
    folders = ["", "subject/", "style/"]
    return {f"{folders[i % 3]}l{i}": [f"value {i}-{j}" for j in range(n_values)] for i in range(n_lists)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--lists", type=int, default=50)
    parser.add_argument("--values", type=int, default=200)
    args = parser.parse_args()
    lists = make_pack(args.lists, args.values)
    (
        lists.setdefault("subject/l1", ["cat"]),
        lists.setdefault("style/l2", ["ink"]),
        lists.setdefault("l3", ["x"]),
    )
    picks = [lists["subject/l1"], lists["style/l2"], ["red", "blue", "green"], lists["l3"]]

    def plain():
        rng = random.Random(1)
        return [
            f"a {rng.choice(picks[0])} in {rng.choice(picks[1])} style, {rng.choice(picks[2])} light, "
            f"{rng.choice(picks[3])}"
            for _ in range(COUNT)
        ]

    def library_random():
        wm = WildcardManager(root_map=root_map(lists))
        return RandomPromptGenerator(wildcard_manager=wm, seed=1).generate(TEMPLATE, num_images=COUNT)

    def direct_random():
        return expand(wildcards.used_lists(lists, TEMPLATE), TEMPLATE, "random", COUNT, 1, 0)["prompts"]

    def hub_random():
        return wildcards.expand_template(lists, template=TEMPLATE, count=COUNT, seed=1, timeout=30)["prompts"]

    def library_combinatorial():
        wm = WildcardManager(root_map=root_map(lists))
        return CombinatorialPromptGenerator(wildcard_manager=wm).generate(TEMPLATE, max_prompts=COUNT), None

    def direct_combinatorial():
        result = expand(
            wildcards.used_lists(lists, TEMPLATE), TEMPLATE, "combinatorial", COUNT, None, wildcards.COUNT_CAP
        )
        return result["prompts"], result["combinatorial_count"]

    def hub_combinatorial():
        result = wildcards.expand_template(
            lists, template=TEMPLATE, mode="combinatorial", count=COUNT, timeout=30
        )
        return result["prompts"], result["combinatorial_count"]

    started = time.perf_counter()
    first = hub_random()
    cold = time.perf_counter() - started
    assert first == library_random(), "the child must give what the library gives"
    assert hub_combinatorial()[0] == library_combinatorial()[0]

    cases = {
        "(a) random.choice": plain,
        "(b) dynamicprompts random, whole pack": library_random,
        "(c) same in-process, no wrapper": direct_random,
        "(d) hub random": hub_random,
        "(e) dynamicprompts combinatorial, whole pack": library_combinatorial,
        "(f) same+count in-process, no wrapper": direct_combinatorial,
        "(g) hub combinatorial+count": hub_combinatorial,
    }
    times = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, fn in cases.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    print(f"pack: {len(lists)} lists x {args.values} values; template {TEMPLATE!r}; {COUNT} prompts")
    print(f"hub random, first call (starts the fork server): {cold * 1000:.1f} ms")
    med = {name: statistics.median(ts) for name, ts in times.items()}
    for name, ts in times.items():
        print(f"{name:42s} median {med[name] * 1000:8.2f} ms   min {min(ts) * 1000:8.2f} ms")

    def ratio(a, b):
        return med[a] / med[b]

    print(
        f"(d)/(c) hub wrapper overhead, random:        {ratio('(d) hub random', '(c) same in-process, no wrapper'):.2f}x"
    )
    print(
        f"(d)/(b) hub vs dynamicprompts on the whole pack: {ratio('(d) hub random', '(b) dynamicprompts random, whole pack'):.2f}x"
    )
    print(
        f"(g)/(f) hub wrapper overhead, combinatorial: {ratio('(g) hub combinatorial+count', '(f) same+count in-process, no wrapper'):.2f}x"
    )
    print(
        f"(b)/(a) dynamicprompts vs random.choice: {ratio('(b) dynamicprompts random, whole pack', '(a) random.choice'):.0f}x"
    )


if __name__ == "__main__":
    main()
