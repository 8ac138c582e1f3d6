"""Self-contained HTML pages: figures embedded as base64 PNG data URIs, all text escaped.

A page needs no other file and no network, so it can be e-mailed or archived alone.
"""

from __future__ import annotations

import base64
from html import escape

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #111; background: #fff;
       max-width: 1100px; margin: 24px auto; padding: 0 20px; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; }
h2 { font-size: 1.2em; border-bottom: 1px solid #999; padding-bottom: 0.15em; margin-top: 1.8em; }
.subtitle { color: #444; margin-top: 0; }
.headline { font-size: 1.15em; border-left: 5px solid #0072B2; background: #f3f3f3;
            padding: 0.7em 1em; margin: 1em 0; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.facts th { width: 13em; }
figure { margin: 0.5em 0 1.4em; }
figure img { width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.3em; }
.note { font-size: 0.88em; color: #444; }
@media print {
  body { max-width: none; margin: 0; }
  figure, table { break-inside: avoid; }
  .headline { border-left-color: #000; }
}
"""

# Once the page has loaded, writes onto <body> how many images decoded and any script
# error, for automated checks in a headless browser; a reader never sees them.
CHECK_SCRIPT = """<script>
window.addEventListener("error", function (e) {
  document.body.dataset.errors = (document.body.dataset.errors || "") + e.message + ";";
});
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  document.body.dataset.imagesTotal = images.length;
  document.body.dataset.imagesLoaded = images.filter(function (i) {
    return i.complete && i.naturalWidth > 0; }).length;
});
</script>"""


def figure(png: bytes, name: str, caption: str) -> str:
    """A figure with its PNG inline; ``name`` is the PNG file saved beside the page."""
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure id="fig-{escape(name)}"><img src="data:image/png;base64,{data}" '
            f'alt="{escape(caption)}"><figcaption>{escape(caption)} '
            f'<span class="note">({escape(name)}.png)</span></figcaption></figure>')


def table(header: list[str], rows: list[list[str]], *, numeric_from: int = 1, text: tuple = ()) -> str:
    """A table; columns from ``numeric_from`` on are right-aligned numbers, but for the
    column numbers in ``text``."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{escape(c)}</td>' if i >= numeric_from and i not in text
                         else f"<td>{escape(c)}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def facts(pairs: list[tuple[str, str]]) -> str:
    """A two-column table of named facts."""
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in pairs)
    return f'<table class="facts"><tbody>{rows}</tbody></table>'


def paragraph(text: str, css_class: str | None = None) -> str:
    """A paragraph of escaped text."""
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{escape(text)}</p>"


def section(title: str, *parts: str) -> str:
    """A titled section of already-built parts."""
    return f"<section><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def page(title: str, subtitle: str, *sections: str) -> str:
    """A complete HTML document."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style>{CHECK_SCRIPT}</head>\n"
            f'<body><h1>{escape(title)}</h1><p class="subtitle">{escape(subtitle)}</p>'
            f"{''.join(sections)}</body></html>\n")
