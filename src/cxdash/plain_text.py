"""Texts from data (names, teams, annotations, regions…) made safe to show as plain text.

Streamlit renders Markdown (with its `:color[…]`, `:material/…:`, emoji and `$` math extensions) in
captions, markdown, metric and widget labels; Plotly renders a small HTML subset (`<a href>`, `<b>`,
`<br>`) in hovers, titles, legends and annotations. One function per target; pure, no Streamlit.
"""

import html
import re
import string

# CommonMark lets a backslash escape any ASCII punctuation: escaping all of it turns off every inline
# and block construct (links, images, emphasis, HTML, autolinks, `:red[…]` directives, `$` math).
_MARKDOWN_SPECIALS = re.compile("([" + re.escape(string.punctuation) + "])")
# Some constructs are found after parsing, in the text itself, where escapes are gone: Streamlit's
# `:material_name:` icons and emoji shortcodes, and GFM's bare links (`http://…`, `www.…`, `a@b.c`).
# An invisible word joiner after every `:` and `@`, and after `www` before a dot, breaks them all.
_FOUND_AFTER_PARSING = re.compile(r"(?<=[:@])|(?<=www)(?=\\?\.)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def markdown_plain(text: object) -> str:
    """`text` for Streamlit's Markdown (captions, markdown, labels), shown exactly as written."""
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))
    return _FOUND_AFTER_PARSING.sub(WORD_JOINER, escaped)


def plotly_plain(text: object) -> str:
    """`text` for Plotly's pseudo-HTML (hovers, titles, legend names, annotations), shown as written."""
    return html.escape(str(text), quote=False)
