"""The browser helper itself must be able to fail: it sees a script error, a console error, a fetch and a blank
page, and it reads values computed in the page."""

from headless_browser import is_blank, open_page


def test_helper_reports_script_errors_console_errors_and_requests(tmp_path):
    page_path = tmp_path / "broken.html"
    page_path.write_text(
        "<!DOCTYPE html><html><body><h1>A heading so the page is not blank</h1>"
        "<p>Some text, some more text, and more.</p>"
        "<img src='https://example.invalid/picture.png'>"
        "<script>console.error('deliberate console error'); window.answer = 6 * 7;"
        "notAFunction();</script></body></html>"
    )
    with open_page(page_path) as page:
        errors = page.errors
        assert any("deliberate console error" in error for error in errors), errors
        assert any("notAFunction" in error for error in errors), errors
        assert any("example.invalid" in url for url in page.requests), page.requests
        assert page.evaluate("window.answer") == 42
        assert not is_blank(page.screenshot())


def test_helper_sees_a_clean_page_as_clean_and_an_empty_page_as_blank(tmp_path):
    clean = tmp_path / "clean.html"
    clean.write_text("<!DOCTYPE html><html><body><h1>Fine</h1><script>window.ok = true;</script></body></html>")
    empty = tmp_path / "empty.html"
    empty.write_text("<!DOCTYPE html><html><body></body></html>")
    with open_page(clean) as page:
        assert page.errors == [] and page.requests == []
        assert page.evaluate("window.ok") is True
        assert not is_blank(page.screenshot())
    with open_page(empty) as page:
        assert page.errors == []
        assert is_blank(page.screenshot())
