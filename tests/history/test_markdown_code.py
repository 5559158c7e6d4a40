"""Markdown code spans show their text as it is; text outside them is still escaped.

Checked with a real CommonMark renderer (markdown-it-py), not by comparing strings.
"""

from __future__ import annotations

import html

import pytest

from fleetaudit.history import diff_runs
from fleetaudit.history.render import render_diff
from fleetaudit.report import DiffFormat
from fleetaudit.report.markdown import md, md_code
from tests.factories import run_result, snapshot, sock

markdown_it = pytest.importorskip("markdown_it")


def _code_texts(markdown: str) -> list[str]:
    """The text of every inline code span, as a reader sees it."""
    tokens = markdown_it.MarkdownIt("commonmark").parseInline(markdown)
    return [
        child.content
        for token in tokens
        for child in token.children or []
        if child.type == "code_inline"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "status (absent) -> ok",
        "+ tcp 0.0.0.0:80 <script>*_x_*</script>",
        "a`b``c",
        "`leading and trailing`",
        " spaced ",
        "back\\slash [link](x) | pipe",
    ],
)
def test_code_span_shows_the_text_exactly(text: str) -> None:
    assert _code_texts(f"- {md_code(text)}") == [text]


def test_text_outside_code_spans_is_still_escaped() -> None:
    rendered = markdown_it.MarkdownIt("commonmark").render(md("**bold** <b>x</b> `c`"))
    assert "<strong>" not in rendered and "<code>" not in rendered and "<b>" not in rendered
    assert html.unescape(rendered).strip() == "<p>**bold** <b>x</b> `c`</p>"


def test_diff_markdown_host_lines_have_no_stray_backslashes() -> None:
    before = run_result((), run_id="r1")
    after = run_result((snapshot("legacy1", sock("0.0.0.0", 80, "nginx")),), run_id="r2")
    text = render_diff(diff_runs(before, after), DiffFormat.MARKDOWN)
    assert "`status (absent) -> ok`" in text
    assert "\\" not in "".join(_code_texts(text))
