"""The one JSON reader for bodies that strangers send (API requests): bounded in depth, never a 500.

Python's json module recurses once per nesting level, so `[[[[...]]]]` 100,000 deep raises
RecursionError, which nothing upstream expects; it also accepts NaN and Infinity, which are not JSON.
`loads` turns every such input into `JSONRejected` with a sentence the caller can show as a 400.
"""

import json

MAX_DEPTH = 32  # the hub's own request bodies need 2 or 3 levels; generous for clients that wrap them


class JSONRejected(ValueError):
    """The body is not JSON the hub accepts; the message says why, in one sentence."""


def _no_constants(name: str):
    raise JSONRejected(f"{name} is not valid JSON; send numbers as plain digits.")


def depth_exceeds(value, limit: int) -> bool:
    """True when `value` nests lists/objects deeper than `limit` (walked level by level, without
    recursion; one list per level keeps a large flat document cheap to check)."""
    level = [value]
    depth = 1
    while level:
        if depth > limit:
            return True
        level = [
            child
            for item in level
            for child in (item.values() if type(item) is dict else item)
            if type(child) is dict or type(child) is list
        ]
        depth += 1
    return False


def loads(data: bytes | str, *, what: str = "The request body", max_depth: int = MAX_DEPTH):
    """Parse `data` as JSON; raise JSONRejected (never RecursionError) for anything else."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise JSONRejected(f"{what} is not UTF-8 text.") from None
    try:
        value = json.loads(data, parse_constant=_no_constants)
    except RecursionError:
        raise JSONRejected(f"{what} is nested too deeply; at most {max_depth} levels are allowed.") from None
    except JSONRejected:
        raise
    except ValueError as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise JSONRejected(f"{what} is not valid JSON: {message}.") from None
    if isinstance(value, dict | list) and depth_exceeds(value, max_depth):
        raise JSONRejected(f"{what} is nested too deeply; at most {max_depth} levels are allowed.")
    return value
