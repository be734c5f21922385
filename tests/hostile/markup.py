"""Finds live markup in a page: what an injected `<script>`, event handler or `javascript:` link would
leave behind if escaping or sanitising failed (docs/hostile-input.md, item 13)."""

from html.parser import HTMLParser

# The hub's own scripts are files under /static/ (the CSP allows no inline script, docs/hostile-input.md).
OWN_SCRIPT_PREFIXES = ("/static/", "/jsi18n/")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data", "srcset"}


class _LiveMarkup(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and value:
                squeezed = "".join(value.split()).lower()
                if squeezed.startswith(("javascript:", "vbscript:", "data:text/html")):
                    self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith(OWN_SCRIPT_PREFIXES):
                self.problems.append(f"<script src={src!r}>")
            self._in_script = True
        if tag in {"iframe", "object", "embed", "base"}:
            self.problems.append(f"<{tag}>")
        if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "refresh":
            self.problems.append("<meta http-equiv=refresh>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline script {data.strip()[:80]!r}")


def live_markup(html: str) -> list[str]:
    """Every tag, attribute or script in `html` that would run or load something it should not."""
    parser = _LiveMarkup()
    parser.feed(html)
    parser.close()
    return parser.problems
