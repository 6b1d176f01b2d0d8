"""Write an Explanation: explain.json and explain.html, each atomically, once everything is computed."""

import pathlib

from edgecnn import atomic, json_text
from edgecnn.explain import render

HTML_NAME = "explain.html"
JSON_NAME = "explain.json"


def write(explanation, out_dir):
    """Render first, then write: a failure while rendering leaves no file behind."""
    out_dir = pathlib.Path(out_dir)
    atomic.check_parent_directory(out_dir)
    page = render.html_page(explanation)
    summary = json_text.dumps(render.summary(explanation)) + "\n"
    out_dir.mkdir(exist_ok=True)
    atomic.write_text(out_dir / JSON_NAME, summary)
    atomic.write_text(out_dir / HTML_NAME, page)
    return out_dir / HTML_NAME, out_dir / JSON_NAME
