"""Draw a parsed workflow layout (resources.workflows) as inline SVG (docs/workflows.md#rendering).

Every piece of text from the workflow goes through `escape` into a text node or a quoted attribute, so
a title such as `<script>` or `</svg><img onerror=...>` is shown as characters. Colours are used only
when they match `^#[0-9a-fA-F]{3,8}$` (checked again here, whoever built the layout); no other value
from the file reaches an attribute except numbers we computed and ids escaped.
"""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Bump when the drawing changes: the model page caches each file's SVG under this version.
RENDER_VERSION = 1
TITLE_HEIGHT = 30
SLOT_HEIGHT = 20
PADDING = 40
CHAR_WIDTH = 8  # about one character of the 12-14 px sans-serif the stylesheet sets
_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$")
DEFAULT_NODE = "#353535"
DEFAULT_TITLE = "#222222"
DEFAULT_GROUP = "#3f789e"


def _colour(value, default: str) -> str:
    return value if isinstance(value, str) and _COLOUR.match(value) else default


def _f(value: float) -> str:
    return f"{float(value):.1f}".removesuffix(".0")


def render_svg(layout: dict) -> SafeString:
    """The whole graph as one <svg> element; its viewBox frames every node and group."""
    nodes = layout.get("nodes") or []
    groups = layout.get("groups") or []
    boxes = {}
    for n in nodes:
        node_id, _, x, y, w, h, collapsed = n[:7]
        boxes[str(node_id)] = (
            float(x),
            float(y),
            float(w),
            TITLE_HEIGHT if collapsed else float(h) + TITLE_HEIGHT,
        )
    xs = [b[0] for b in boxes.values()] + [g["x"] for g in groups]
    ys = [b[1] - TITLE_HEIGHT for b in boxes.values()] + [g["y"] for g in groups]
    x2 = [b[0] + b[2] for b in boxes.values()] + [g["x"] + g["w"] for g in groups]
    y2 = [b[1] + b[3] for b in boxes.values()] + [g["y"] + g["h"] for g in groups]
    left, top = (min(xs) - PADDING, min(ys) - PADDING) if xs else (0, 0)
    width = (max(x2) + PADDING - left) if x2 else 400
    height = (max(y2) + PADDING - top) if y2 else 300
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="wf-svg" role="img" aria-label="Workflow graph" '
        f'viewBox="{_f(left)} {_f(top)} {_f(width)} {_f(height)}" data-testid="workflow-svg">'
    ]
    for g in groups:
        colour = _colour(g.get("color"), DEFAULT_GROUP)
        parts.append(
            f'<g class="wf-group"><rect x="{_f(g["x"])}" y="{_f(g["y"])}" width="{_f(g["w"])}" '
            f'height="{_f(g["h"])}" fill="{colour}" fill-opacity="0.25" stroke="{colour}"/>'
            f'<text x="{_f(g["x"] + 8)}" y="{_f(g["y"] + 22)}" class="wf-group-title">{escape(g.get("title", ""))}</text></g>'
        )
    for index, (src, src_slot, dst, dst_slot) in enumerate(layout.get("links") or []):
        a, b = boxes.get(str(src)), boxes.get(str(dst))
        if a is None or b is None:
            continue
        x1, y1 = a[0] + a[2], _slot_y(a, src_slot)
        x2_, y2_ = b[0], _slot_y(b, dst_slot)
        bend = max(40.0, abs(x2_ - x1) / 2)
        parts.append(
            f'<path class="wf-link" data-link="{index}" d="M{_f(x1)} {_f(y1)} C{_f(x1 + bend)} {_f(y1)} '
            f'{_f(x2_ - bend)} {_f(y2_)} {_f(x2_)} {_f(y2_)}"/>'
        )
    for n in nodes:
        node_id, title, x, y, w, h, collapsed, color, bgcolor, widgets = n[:10]
        mode = n[10] if len(n) > 10 else 0
        body = _colour(bgcolor, DEFAULT_NODE)
        head = _colour(color, DEFAULT_TITLE)
        state = " wf-muted" if mode in (2, 4) else ""
        parts.append(
            f'<g class="wf-node{state}" data-node-id="{escape(node_id)}" transform="translate({_f(x)} {_f(y - TITLE_HEIGHT)})">'
        )
        if not collapsed:
            parts.append(
                f'<rect class="wf-node-body" width="{_f(w)}" height="{_f(float(h) + TITLE_HEIGHT)}" rx="6" fill="{body}"/>'
            )
        fits = max(4, int(float(w) / CHAR_WIDTH))  # characters that fit the node's width
        parts.append(
            f'<rect class="wf-node-title" width="{_f(w)}" height="{TITLE_HEIGHT}" rx="6" fill="{head}"/>'
            f'<text x="10" y="20" class="wf-title">{escape(_cut(title, fits))}</text>'
        )
        if not collapsed:
            for i, text in enumerate(widgets or []):
                y_text = TITLE_HEIGHT + 20 + i * SLOT_HEIGHT
                parts.append(f'<text x="10" y="{y_text}" class="wf-widget">{escape(_cut(text, fits))}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every workflow string above went through escape()


def _cut(text, limit: int) -> str:
    """Text cut to what fits a node; the full value stays in the file (and in the summary)."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slot_y(box, slot) -> float:
    x, y, w, h = box
    if h <= TITLE_HEIGHT:  # collapsed: links meet the title bar
        return y - TITLE_HEIGHT / 2
    return min(y + (int(slot) + 0.5) * SLOT_HEIGHT, y + h - TITLE_HEIGHT)
