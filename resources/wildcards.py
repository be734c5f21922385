"""Wildcard packs: read .txt, .json, .yaml/.yml and .zip packs into `{name: [value, ...]}`, check them,
and expand Dynamic Prompts templates over them (docs/wildcards.md).

Everything here is bounded: bytes read, lists, values, value length, nesting; YAML aliases are
refused (an alias bomb is a few hundred bytes); zip members are checked from the directory and read
with a cap that ignores the sizes the header claims. Cycles between lists are refused by name.
"""

import fnmatch
import io
import json
import re
import stat
import zipfile
from pathlib import PurePosixPath

import yaml
from django.utils.formats import number_format
from django.utils.translation import gettext

MAX_FILE_BYTES = 4 * 1024**2  # one .txt/.json/.yaml, and each member of a zip
MAX_ZIP_BYTES = 32 * 1024**2
MAX_ZIP_MEMBERS = 2_000
MAX_UNCOMPRESSED_BYTES = 16 * 1024**2  # all members of a zip together
MAX_RATIO = 200  # uncompressed / compressed, for members bigger than 1 MiB
MAX_LISTS = 2_000
MAX_VALUES = 20_000  # per list
MAX_TOTAL_VALUES = 100_000
MAX_VALUE_CHARS = 1_000
MAX_TOTAL_CHARS = 2_000_000  # stored with the file (metadata), so kept modest
MAX_NAME_CHARS = 200
MAX_DEPTH = 10  # folders in a name, and nesting in JSON/YAML
MAX_CHAIN = 25  # lists referring to lists referring to lists...
MAX_YAML_EVENTS = 500_000
MAX_YAML_NESTING = 64  # brackets deep (a value's {a|b} variants count too)
TEXT_EXTENSIONS = (".txt", ".json", ".yaml", ".yml")

_NAME_PART = re.compile(r"^[\w\- .()+&',]+$")
_REFERENCE = re.compile(r"__(.+?)__")


# libyaml's safe loader where PyYAML was built with it: the same rules as yaml.safe_load, ~10x faster.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class WildcardError(ValueError):
    """A sentence for the creator or the person trying a template."""


# --- Reading ---------------------------------------------------------------------------------------


def read_pack(data: bytes, filename: str) -> dict[str, list[str]]:
    """The lists in one uploaded file, by its extension; WildcardError says what is wrong."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    ext = PurePosixPath(name.lower()).suffix
    if ext == ".zip":
        lists = read_zip(data)
    elif ext in TEXT_EXTENSIONS:
        if len(data) > MAX_FILE_BYTES:
            raise WildcardError(
                f"{name} is over {MAX_FILE_BYTES // 1024**2} MiB, the limit for one wildcard file."
            )
        lists = _read_text_file(data, stem=PurePosixPath(name).stem, ext=ext, label=name, folder="")
    else:
        raise WildcardError(f"{name} is not a wildcard file: use .txt, .json, .yaml, .yml or a .zip of them.")
    lists = {n: v for n, v in lists.items() if v}
    if not lists:
        raise WildcardError(f"{name} has no wildcard lists: every list is empty or commented out.")
    check_lists(lists)
    return lists


def _read_text_file(data: bytes, *, stem: str, ext: str, label: str, folder: str) -> dict[str, list[str]]:
    text = _decode(data)
    if ext == ".txt":
        return {_name(folder, stem, label): _txt_values(text, label)}
    if ext == ".json":
        try:
            tree = json.loads(text, parse_constant=_no_constant)
        except RecursionError:
            raise WildcardError(f"{label} nests too deeply.") from None
        except (ValueError, TypeError) as exc:
            raise WildcardError(f"{label} is not valid JSON: {str(exc)[:120]}.") from None
    else:
        tree = _load_yaml(text, label)
    # In a .json or .yaml file the keys are the names, without the file's name (as dynamicprompts does).
    return _flatten(tree, folder=folder, label=label)


def _decode(data: bytes) -> str:
    text = data.decode("utf-8-sig", errors="replace")
    return text.replace("\x00", "")


def _no_constant(value):
    raise ValueError(f"{value} is not a number JSON allows")


def _txt_values(text: str, label: str) -> list[str]:
    values = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_VALUE_CHARS:
            raise WildcardError(
                f"Line {number} of {label} is {len(line):,} characters; the limit is {MAX_VALUE_CHARS:,}."
            )
        values.append(line)
    return values


def _load_yaml(text: str, label: str):
    """safe_load after a pass over the events that refuses aliases (billion laughs) and huge documents."""
    # PyYAML slows down quadratically with nesting ("[" * 50,000 takes minutes): measure it first.
    level = deepest = 0
    for char in text:
        if char in "[{":
            level += 1
            deepest = max(deepest, level)
        elif char in "]}":
            level -= 1
    indent = max((len(line) - len(line.lstrip(" -?:\t")) for line in text.splitlines()), default=0)
    if deepest > MAX_YAML_NESTING or indent > 4 * MAX_YAML_NESTING:
        raise WildcardError(f"{label} nests too deeply.")
    try:
        for count, event in enumerate(yaml.parse(io.StringIO(text), Loader=_YamlLoader)):
            if isinstance(event, yaml.AliasEvent):
                raise WildcardError(f"{label} uses YAML aliases (*name); the hub does not expand them.")
            if count > MAX_YAML_EVENTS:
                raise WildcardError(f"{label} has too many YAML items.")
        return yaml.load(text, Loader=_YamlLoader)  # a safe loader (see _YamlLoader)
    except RecursionError:
        raise WildcardError(f"{label} nests too deeply.") from None
    except yaml.YAMLError as exc:
        raise WildcardError(f"{label} is not valid YAML: {str(exc).splitlines()[0][:120]}.") from None


def _flatten(tree, *, folder: str, label: str) -> dict[str, list[str]]:
    """{"style": {"sub": [...]}} → {"style/sub": [...]}: nested dicts become nested names (the hub rule,
    docs/wildcards.md#lists), so dynamicprompts never sees a dict where it expects values."""
    if not isinstance(tree, dict):
        raise WildcardError(f"{label} must be a mapping of names to lists of values.")
    lists: dict[str, list[str]] = {}
    stack = [(folder, tree, 0)]
    while stack:
        prefix, node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise WildcardError(f"{label} nests more than {MAX_DEPTH} levels deep.")
        for key, value in node.items():
            name = _name(prefix, str(key), label)
            if isinstance(value, dict):
                stack.append((name, value, depth + 1))
                continue
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                value = [value]
            if not isinstance(value, list):
                raise WildcardError(f"{name} in {label} must be a list of values.")
            values = []
            for item in value:
                if isinstance(item, bool) or not isinstance(item, str | int | float):
                    raise WildcardError(f"{name} in {label} has a value that is not text.")
                item = str(item).replace("\x00", "").strip()
                if len(item) > MAX_VALUE_CHARS:
                    raise WildcardError(
                        f"A value of {name} in {label} is {len(item):,} characters; the limit is {MAX_VALUE_CHARS:,}."
                    )
                if item:
                    values.append(item)
            lists.setdefault(name, []).extend(values)
    return lists


def _name(folder: str, leaf: str, label: str) -> str:
    name = f"{folder}/{leaf}" if folder else leaf
    parts = name.split("/")
    if (
        len(name) > MAX_NAME_CHARS
        or len(parts) > MAX_DEPTH
        or any(part in ("", ".", "..") or not _NAME_PART.match(part) or "__" in part for part in parts)
    ):
        shown = name[:80].encode("unicode_escape").decode()
        raise WildcardError(
            f"{shown!r} in {label} is not a usable wildcard name: use letters, digits, spaces and - _ . "
            f"in at most {MAX_DEPTH} folders and {MAX_NAME_CHARS} characters."
        )
    return name


def read_zip(data: bytes) -> dict[str, list[str]]:
    """A pack of wildcard files: `a/b.txt` is `a/b`. Checked from the directory before any member is
    read; members are read with a byte cap, whatever size their header claims."""
    if len(data) > MAX_ZIP_BYTES:
        raise WildcardError(f"The zip is over {MAX_ZIP_BYTES // 1024**2} MiB, the limit for a wildcard pack.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise WildcardError(f"The zip could not be read: {exc}.") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise WildcardError(
            f"The zip has {len(members):,} entries; a wildcard pack may have {MAX_ZIP_MEMBERS:,}."
        )
    wanted = []
    for info in members:
        raw = info.orig_filename  # zipfile cuts `filename` at a NUL; the original keeps it
        shown = raw[:100].encode("unicode_escape").decode()
        if "\x00" in raw:
            raise WildcardError(
                f"The zip entry {shown!r} has a NUL character in its name; the pack is refused."
            )
        if "\\" in raw or raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
            raise WildcardError(
                f"The zip entry {shown!r} has an absolute or Windows path; the pack is refused."
            )
        if any(part == ".." for part in raw.split("/")):
            raise WildcardError(f"The zip entry {shown!r} points outside the pack (..); the pack is refused.")
        if info.flag_bits & 0x1:
            raise WildcardError(f"The zip entry {shown!r} is encrypted; upload an unencrypted pack.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise WildcardError(f"The zip entry {shown!r} is a symbolic link; the pack is refused.")
        if info.is_dir():
            continue
        lower = raw.lower()
        if lower.endswith((".zip", ".7z", ".tar", ".gz", ".rar")):
            raise WildcardError(f"The zip entry {shown!r} is itself an archive; nested archives are refused.")
        if lower.endswith(TEXT_EXTENSIONS) and not PurePosixPath(raw).name.startswith("."):
            wanted.append(info)
    lists: dict[str, list[str]] = {}
    total = 0
    for info in wanted:
        path = PurePosixPath(info.filename)
        try:
            with archive.open(info) as member:
                content = member.read(MAX_FILE_BYTES + 1)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
            raise WildcardError(f"The zip entry {info.filename[:100]!r} could not be read: {exc}.") from None
        total += len(content)
        if len(content) > MAX_FILE_BYTES or total > MAX_UNCOMPRESSED_BYTES:
            raise WildcardError(
                f"The zip unpacks to more than the limit ({MAX_FILE_BYTES // 1024**2} MiB per file, "
                f"{MAX_UNCOMPRESSED_BYTES // 1024**2} MiB in all); it looks like a zip bomb."
            )
        if len(content) > 1024**2 and len(content) > MAX_RATIO * max(info.compress_size, 1):
            raise WildcardError(
                f"The zip entry {info.filename[:100]!r} is compressed more than {MAX_RATIO}:1; it looks like a zip bomb."
            )
        folder = "/".join(path.parent.parts)
        found = _read_text_file(
            content, stem=path.stem, ext=path.suffix.lower(), label=info.filename[:100], folder=folder
        )
        for name, values in found.items():
            lists.setdefault(name, []).extend(values)
    return lists


def looks_like_wildcards(data: bytes, filename: str) -> bool:
    """For import_models without --type: a .txt of lines, a .json/.yaml whose every leaf is a list of
    text (so a config file or a ComfyUI workflow is not mistaken for one), or a zip of such files."""
    ext = PurePosixPath(filename.lower()).suffix
    if ext == ".zip":
        try:
            names = [
                i.filename.lower() for i in zipfile.ZipFile(io.BytesIO(data)).infolist() if not i.is_dir()
            ]
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            return False
        texts = [n for n in names if n.endswith(TEXT_EXTENSIONS)]
        others = [n for n in names if not n.endswith(TEXT_EXTENSIONS + (".md",))]
        if not texts or others:
            return False
    try:
        lists = read_pack(data, filename)
    except WildcardError:
        return False
    if ext in (".json", ".yaml", ".yml"):
        tree = json.loads(_decode(data)) if ext == ".json" else yaml.load(_decode(data), Loader=_YamlLoader)
        stack = [tree]
        while stack:
            node = stack.pop()
            for value in node.values():
                if isinstance(value, dict):
                    stack.append(value)
                elif not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    return False
    return bool(lists)


# --- Checking --------------------------------------------------------------------------------------


def check_lists(lists: dict[str, list[str]]) -> None:
    """Caps, then cycles and over-long chains; WildcardError names what is wrong."""
    if len(lists) > MAX_LISTS:
        raise WildcardError(f"The pack has {len(lists):,} lists; the limit is {MAX_LISTS:,}.")
    total_values = total_chars = 0
    for name, values in lists.items():
        if len(values) > MAX_VALUES:
            raise WildcardError(f"{name} has {len(values):,} values; the limit is {MAX_VALUES:,} per list.")
        total_values += len(values)
        total_chars += sum(len(v) for v in values)
    if total_values > MAX_TOTAL_VALUES or total_chars > MAX_TOTAL_CHARS:
        raise WildcardError(
            f"The pack has {total_values:,} values ({total_chars:,} characters); the limits are "
            f"{MAX_TOTAL_VALUES:,} values and {MAX_TOTAL_CHARS:,} characters."
        )
    check_cycles(lists)


def references(value: str, names) -> set[str]:
    """The lists a value uses: `__name__`, and every match of a glob like `__col*__`."""
    found = set()
    for ref in _REFERENCE.findall(value):
        ref = ref.strip()
        if any(c in ref for c in "*?["):
            found.update(n for n in names if fnmatch.fnmatchcase(n, ref))
        elif ref in names:
            found.add(ref)
    return found


def check_cycles(lists: dict[str, list[str]]) -> None:
    """Refuse a list that uses itself, directly or through others (dynamicprompts would recurse until
    RecursionError), and chains deeper than MAX_CHAIN. Iterative: a hostile pack can't overflow us."""
    names = set(lists)
    edges = {
        name: sorted(set().union(*(references(v, names) for v in values))) for name, values in lists.items()
    }
    depth: dict[str, int] = {}
    for start in sorted(names):
        if start in depth:
            continue
        path, on_path = [start], {start}
        iterators = [iter(edges[start])]
        while iterators:
            child = next(iterators[-1], None)
            if child is None:
                done = path.pop()
                on_path.discard(done)
                iterators.pop()
                depth[done] = 1 + max((depth[c] for c in edges[done]), default=0)
                if depth[done] > MAX_CHAIN:
                    raise WildcardError(
                        f"The list {done} uses lists {depth[done]} levels deep; the limit is {MAX_CHAIN}."
                    )
                continue
            if child in on_path:
                cycle = path[path.index(child) :] + [child]
                raise WildcardError(
                    "These wildcards use each other in a cycle, which would never finish: "
                    + " → ".join(f"__{n}__" for n in cycle)
                    + "."
                )
            if child not in depth:
                path.append(child)
                on_path.add(child)
                iterators.append(iter(edges[child]))


def used_lists(lists: dict[str, list[str]], template: str) -> dict[str, list[str]]:
    """Only the lists a template can reach: dynamicprompts' cost grows with every list it is given (a
    pack of 50 lists is several times slower than the 3 a template uses). A wildcard name built at run
    time (`__${v}__`, `__{a|b}__`) could reach any list, so then all are kept."""
    names = set(lists)
    wanted, queue = set(), [template]
    while queue:
        text = queue.pop()
        refs = _REFERENCE.findall(text)
        if any(c in ref for ref in refs for c in "${"):
            return lists
        for name in references(text, names) - wanted:
            wanted.add(name)
            queue.extend(lists[name])
    return {name: lists[name] for name in lists if name in wanted}


def merge(packs: list[dict[str, list[str]]]) -> dict[str, list[str]]:
    """Several packs as one: a name in more than one pack offers the values of all of them."""
    merged: dict[str, list[str]] = {}
    seen: dict[str, set] = {}
    for lists in packs:
        for name, values in lists.items():
            have = seen.setdefault(name, set())
            merged.setdefault(name, []).extend(v for v in values if not (v in have or have.add(v)))
    return merged


def preview(lists: dict[str, list[str]], *, first: int = 8) -> list[dict]:
    return [
        {"name": name, "count": len(values), "first": values[:first]}
        for name, values in sorted(lists.items())
    ]


# --- Expansion -------------------------------------------------------------------------------------

MAX_TEMPLATE_CHARS = 2_000
MAX_TEMPLATE_NESTING = 20
MAX_PROMPTS = 100
COUNT_CAP = 10_000  # combinatorial_count stops here and says "more than"
MODES = ("random", "combinatorial")


def expand_template(
    lists: dict[str, list[str]],
    *,
    template: str,
    mode: str = "random",
    count: int = 10,
    seed: int | None = None,
    with_count: bool = False,
    timeout: float | None = None,
) -> dict:
    """{"prompts", "combinatorial_count", "combinatorial_count_more", "missing"}; WildcardError (or
    wildcard_worker.ExpansionError) with a sentence for anything over a cap, a cycle or a timeout."""
    from django.conf import settings

    from .wildcard_worker import run_limited

    if not isinstance(template, str) or not template.strip():
        raise WildcardError(gettext("Write a template, for example: a {red|blue} __animal__."))
    if len(template) > MAX_TEMPLATE_CHARS:
        raise WildcardError(
            gettext("The template is %(length)s characters; the limit is %(max)s.")
            % {
                "length": number_format(len(template), force_grouping=True),
                "max": number_format(MAX_TEMPLATE_CHARS, force_grouping=True),
            }
        )
    if mode not in MODES:
        raise WildcardError(gettext("The mode must be random or combinatorial."))
    if not 1 <= count <= MAX_PROMPTS:
        raise WildcardError(gettext("Ask for 1 to %(max)d prompts.") % {"max": MAX_PROMPTS})
    level = deepest = 0
    for char in template:
        level += char == "{"
        level -= char == "}"
        deepest = max(deepest, level)
    if deepest > MAX_TEMPLATE_NESTING:
        raise WildcardError(
            gettext("The template nests %(depth)d braces deep; the limit is %(max)d.")
            % {"depth": deepest, "max": MAX_TEMPLATE_NESTING}
        )
    check_lists(lists)  # packs combined can form a cycle that neither has alone
    names = set(lists)
    missing = sorted(
        ref
        for ref in {r.strip() for r in _REFERENCE.findall(template)}
        if ref not in names and not any(c in ref for c in "*?[$")
    )[:20]
    result = run_limited(
        lists=used_lists(lists, template),
        template=template,
        mode=mode,
        count=count,
        seed=seed,
        count_cap=COUNT_CAP if with_count or mode == "combinatorial" else 0,
        timeout=timeout or getattr(settings, "WILDCARD_EXPAND_TIMEOUT", 3.0),
    )
    return {
        "prompts": result["prompts"],
        "combinatorial_count": result["combinatorial_count"],
        "combinatorial_count_more": result["more"],
        "missing": missing,
    }
