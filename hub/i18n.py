"""Which strings need a French translation, found in pure Python (docs/i18n.md).

Templates go through Django's own `templatize` (what makemessages feeds to xgettext), Python files
through `ast` (calls of gettext, gettext_lazy, ngettext, pgettext and their `_` aliases). The test
tests/test_i18n.py and `manage.py i18n_missing` compare what is found with locale/fr's django.po.
"""

import ast
import io
import json
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

import polib
from django.conf import settings
from django.utils.translation.template import templatize

# Where translatable strings live: the apps' Python code and the project's templates. Tests, migrations
# and vendored files are not shown to people.
PYTHON_PACKAGES = ["hub", "billing", "models_app", "resources", "community", "moderation", "compat"]
TEMPLATE_DIRS = ["templates"]
# The hub's own scripts (domain djangojs, served at /jsi18n/); vendored code is not ours to translate.
SCRIPT_DIR = "static/js"
JS_CALL = re.compile(r'\b(n?gettext)\(\s*("(?:[^"\\]|\\.)*")(?:\s*,\s*("(?:[^"\\]|\\.)*"))?')
SINGULAR = {"gettext", "gettext_lazy", "_", "gettext_noop", "pgettext", "pgettext_lazy"}
PLURAL = {"ngettext", "ngettext_lazy", "npgettext", "npgettext_lazy"}
CONTEXT = {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{(\w*)\}")


@dataclass(frozen=True)
class Message:
    msgid: str
    plural: str = ""
    context: str = ""
    path: str = ""
    line: int = 0
    domain: str = "django"


def _root() -> Path:
    return Path(settings.BASE_DIR)


def _shown(path: Path) -> str:
    """The path as the report shows it: relative to the project when inside it."""
    return str(path.relative_to(_root())) if path.is_relative_to(_root()) else str(path)


def python_messages(path: Path) -> list[Message]:
    """Every literal msgid passed to a gettext function in one Python file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name not in SINGULAR | PLURAL:
            continue
        args = [
            a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args
        ]
        context = ""
        if name in CONTEXT:
            context, args = args[0] if args else None, args[1:]
            if context is None:
                continue
        if not args or args[0] is None:
            continue
        plural = ""
        if name in PLURAL:
            if len(args) < 2 or args[1] is None:
                continue
            plural = args[1]
        found.append(Message(args[0], plural, context, _shown(path), node.lineno))
    return found


def template_messages(path: Path) -> list[Message]:
    """Every msgid of {% translate %} and {% blocktranslate %} in one template, as makemessages sees it."""
    source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    found = []
    # Left-align every line: templatize keeps the template's indentation, which tokenize would judge.
    flat = "\n".join(line.lstrip() for line in source.splitlines())
    tokens = list(tokenize.generate_tokens(io.StringIO(flat).readline))
    rel = _shown(path)
    for i, token in enumerate(tokens):
        if token.type != tokenize.NAME or token.string not in SINGULAR | PLURAL:
            continue
        if i + 1 >= len(tokens) or tokens[i + 1].string != "(":
            continue
        strings = []
        for following in tokens[i + 2 :]:
            if following.type == tokenize.STRING:
                strings.append(ast.literal_eval(following.string))
            elif following.string == ")":
                break
        if not strings:
            continue
        line = token.start[0]
        if token.string in CONTEXT:
            context, strings = strings[0], strings[1:]
        else:
            context = ""
        if not strings:
            continue
        # templatize doubles % in {% translate %} strings for xgettext; the catalog keeps them doubled too.
        plural = strings[1] if token.string in PLURAL and len(strings) > 1 else ""
        found.append(Message(strings[0], plural, context, rel, line))
    return found


def script_messages(path: Path) -> list[Message]:
    """Every literal msgid of gettext("...") and ngettext("...", "...", n) in one of the hub's scripts."""
    source = path.read_text(encoding="utf-8")
    found = []
    for match in JS_CALL.finditer(source):
        plural = json.loads(match[3]) if match[1] == "ngettext" and match[3] else ""
        line = source.count("\n", 0, match.start()) + 1
        found.append(Message(json.loads(match[2]), plural, "", _shown(path), line, "djangojs"))
    return found


def project_messages() -> list[Message]:
    """All msgids of the project's templates and Python code, in file order."""
    root = _root()
    found = []
    for directory in TEMPLATE_DIRS:
        for path in sorted((root / directory).rglob("*")):
            if path.suffix in (".html", ".txt") and path.is_file():
                found.extend(template_messages(path))
    for package in PYTHON_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found.extend(python_messages(path))
    for path in sorted((root / SCRIPT_DIR).glob("*.js")):
        found.extend(script_messages(path))
    return found


def french_catalog(domain: str = "django") -> polib.POFile:
    return polib.pofile(str(_root() / "locale" / "fr" / "LC_MESSAGES" / f"{domain}.po"))


def placeholders(text: str) -> list[str]:
    return sorted(match.group(0) for match in PLACEHOLDER.finditer(text))


def problem(message: Message, entry: polib.POEntry | None) -> str:
    """Why this message lacks a usable French translation, or "" when it has one."""
    if entry is None or entry.obsolete:
        return "no French translation"
    if entry.fuzzy:
        return "French translation marked fuzzy"
    if message.plural:
        forms = [entry.msgstr_plural.get(i, "") for i in range(2)]
        if not all(form.strip() for form in forms):
            return "French plural forms missing"
        if placeholders(forms[1]) != placeholders(message.plural) and placeholders(forms[1]) != placeholders(
            message.msgid
        ):
            return f"placeholders differ: {placeholders(message.plural)} vs {placeholders(forms[1])}"
        return ""
    if not entry.msgstr.strip():
        return "no French translation"
    if placeholders(entry.msgstr) != placeholders(message.msgid):
        return f"placeholders differ: {placeholders(message.msgid)} vs {placeholders(entry.msgstr)}"
    return ""


def missing_french() -> list[tuple[Message, str]]:
    """The project's messages whose French translation is missing, fuzzy or has other placeholders."""
    entries = {
        (domain, e.msgctxt or "", e.msgid): e
        for domain in ("django", "djangojs")
        for e in french_catalog(domain)
    }
    missing = []
    seen = set()
    for message in project_messages():
        key = (message.context, message.msgid, message.path)
        if key in seen:
            continue
        seen.add(key)
        reason = problem(message, entries.get((message.domain, message.context, message.msgid)))
        if reason:
            missing.append((message, reason))
    return missing
