"""Expanding Dynamic Prompts templates in a child process that is killed when it takes too long.

dynamicprompts recurses through templates and wildcard values: a hostile template can nest deeply,
multiply out combinatorially or grow strings exponentially. The web process never runs it itself: a
forked child does, under a memory limit, and the parent waits at most `timeout` seconds
(docs/wildcards.md#expansion-limits). This module imports nothing from Django, so the fork server can
preload it (with dynamicprompts) once and each expansion starts in milliseconds.
"""

import multiprocessing
import resource
import sys

# Per prompt and per answer: a short template can still expand to megabytes through nested lists.
MAX_PROMPT_CHARS = 5_000
MAX_OUTPUT_CHARS = 200_000
CHILD_MEMORY_BYTES = 1024**3


class ExpansionError(Exception):
    """A sentence for the person who wrote the template."""


def root_map(lists: dict[str, list[str]]) -> dict:
    """The hub rule (docs/wildcards.md#lists): `{folder: [{name: [str, ...]}]}`, never a nested dict,
    which dynamicprompts would register and then crash on."""
    folders: dict[str, dict] = {}
    for name, values in lists.items():
        folder, _, leaf = name.rpartition("/")
        folders.setdefault(folder, {})[leaf] = list(values)
    return {folder: [names] for folder, names in folders.items()}


def expand(lists, template, mode, count, seed, count_cap, count_seconds=1.0):
    """Run dynamicprompts; returns {"prompts": [...], "combinatorial_count": int|None, "more": bool}.

    The count walks the combinations lazily and stops at `count_cap` or after `count_seconds`
    (a big pack makes each combination cost a millisecond or more): "more" then says it stopped early,
    so the count is a true lower bound ("more than N")."""
    import itertools
    import time

    from dynamicprompts.generators import CombinatorialPromptGenerator, RandomPromptGenerator
    from dynamicprompts.wildcards import WildcardManager

    wm = WildcardManager(root_map=root_map(lists))
    if mode == "random":
        prompts = RandomPromptGenerator(wildcard_manager=wm, seed=seed).generate(template, num_images=count)
    else:
        prompts = CombinatorialPromptGenerator(wildcard_manager=wm).generate(template, max_prompts=count)
    prompts = [str(p) for p in prompts]
    total = 0
    for prompt in prompts:
        total += len(prompt)
        if len(prompt) > MAX_PROMPT_CHARS or total > MAX_OUTPUT_CHARS:
            raise ExpansionError(
                f"The expansions are too long (over {MAX_PROMPT_CHARS:,} characters per prompt or "
                f"{MAX_OUTPUT_CHARS:,} in all); use shorter lists or fewer nested wildcards."
            )
    counted = None
    more = False
    if count_cap:
        if mode == "combinatorial" and len(prompts) < count:
            counted = len(prompts)  # all of them are already here
        else:
            context = CombinatorialPromptGenerator(wildcard_manager=wm)._context
            deadline = time.monotonic() + count_seconds
            counted = 0
            for _ in itertools.islice(context.sample_prompts(template, None), count_cap + 1):
                counted += 1
                if counted > count_cap or (counted % 50 == 0 and time.monotonic() > deadline):
                    more = True
                    break
            counted = min(counted, count_cap)
    return {"prompts": prompts, "combinatorial_count": counted, "more": more}


def _child(conn, args):
    try:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    except (ValueError, OSError):  # a platform without the limit: the timeout still holds
        pass
    try:
        conn.send(("ok", expand(*args)))
    except ExpansionError as exc:
        conn.send(("error", str(exc)))
    except RecursionError:
        conn.send(("error", "The template or its lists nest too deeply to expand."))
    except MemoryError:
        conn.send(("error", "Expanding this template needs too much memory."))
    except Exception as exc:  # dynamicprompts' parse errors and anything else a template can cause
        conn.send(("error", f"The template could not be expanded ({type(exc).__name__}: {str(exc)[:200]})."))
    finally:
        conn.close()


_context = None


def _get_context():
    """A fork server (clean, single-threaded, dynamicprompts preloaded) where the platform has one;
    forking a threaded web worker directly could deadlock on a lock held by another thread."""
    global _context
    if _context is None:
        if "forkserver" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["resources.wildcard_worker", "resources.wildcard_warm"])
        else:
            ctx = multiprocessing.get_context("spawn")
        _context = ctx
    return _context


def run_limited(*, lists, template, mode, count, seed, count_cap, timeout: float) -> dict:
    """expand() in a child process; ExpansionError with a sentence on any failure or after `timeout`."""
    ctx = _get_context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=_child,
        args=(sender, (lists, template, mode, count, seed, count_cap, min(1.0, timeout / 3))),
        daemon=True,
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise ExpansionError(
                f"Expanding this template took longer than {timeout:g} seconds, so it was stopped; "
                "simplify the template or use fewer nested wildcards."
            )
        try:
            outcome, value = receiver.recv()
        except (EOFError, OSError):
            raise ExpansionError(
                "Expanding this template needed more memory than the hub allows, so it was stopped."
            ) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
        if hasattr(process, "close") and not process.is_alive():
            process.close()
    if outcome == "error":
        raise ExpansionError(value)
    return value


if __name__ == "__main__":  # pragma: no cover - a manual check: python -m resources.wildcard_worker
    print(
        run_limited(
            lists={"a": ["x", "y"]},
            template="__a__",
            mode="random",
            count=3,
            seed=1,
            count_cap=100,
            timeout=5,
        )
    )
    sys.exit(0)
