"""Markdown to rich text (pure): code blocks keep their exact text for Copy, raw HTML and remote images are never
trusted, your own messages keep their asterisks, and both themes color the tokens."""

from __future__ import annotations

from autodevai.gui.chat.markdown import render_markdown, stylesheet


def test_code_blocks_are_highlighted_and_kept_exactly() -> None:
    text = "Try:\n\n```python\nx = [1, 2]  # list\n```\n\nand\n\n    indented()\n"
    out = render_markdown(text)
    assert out.code == ("x = [1, 2]  # list", "indented()")
    assert 'href="copy-code:0"' in out.html and 'href="copy-code:1"' in out.html
    assert '<span class="c1"># list</span>' in out.html and '<td class="codehead">python</td>' in out.html
    unknown = render_markdown("```nosuchlang\n<b>x</b>\n```")
    assert "&lt;b&gt;x&lt;/b&gt;" in unknown.html and unknown.code == ("<b>x</b>",)


def test_untrusted_markup_is_escaped_and_images_are_links() -> None:
    out = render_markdown("<script>alert(1)</script> ![chart](https://example.com/a.png) `<i>`")
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "<img" not in out.html and '<a href="https://example.com/a.png">[image: chart]</a>' in out.html
    assert '<code class="ic">&lt;i&gt;</code>' in out.html


def test_your_own_messages_keep_their_asterisks_but_get_code_blocks() -> None:
    mine = render_markdown("multiply 2*3 and 4*5\nsecond line\n\n```sh\nls -l\n```", plain=True)
    assert "2*3 and 4*5<br" in mine.html and "<em>" not in mine.html
    assert mine.code == ("ls -l",)
    answer = render_markdown("multiply 2*3 and 4*5")
    assert "<em>" in answer.html


def test_both_themes_color_code() -> None:
    light, dark = stylesheet(False), stylesheet(True)
    assert "span.k {" in light and "span.k {" in dark and light != dark
    assert "#0d1117" in dark and "#f6f8fa" in light
