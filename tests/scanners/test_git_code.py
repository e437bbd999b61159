"""Comparing document code with repository code as a reviewer would: layout, comments,
markers and elided parts are ignored; a changed statement is not."""

from __future__ import annotations

import time

import pytest

from scanners.git import (
    GitError,
    code_match,
    code_presence,
    normalise_code,
    plain_text,
    shell_session,
)

PUBLISH_TASKS = """\
import asyncio


def publish(task_id):
    db = SessionLocal()
    try:
        post = db.get(Post, task_id)
        runner = Runner(post)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            result = loop.run_until_complete(runner.run_publish(post, retries=3))
        finally:
            loop.close()
    finally:
        db.close()  # Guaranteed cleanup
"""


def test_normalising_drops_layout_comments_and_markers_but_keeps_strings_and_case() -> None:
    text = "\ufeff\tif x:\r\n\r\n        y  =\t'a  b'   \r\n\n# note\n"
    assert normalise_code(text) == "if x :\ny = 'a b'"
    assert normalise_code('Y = "a"  # ✅ FIXED') == 'Y = "a"'
    # A comment marker inside a string is text, and #include is code, not a comment.
    assert normalise_code('url = "http://x.org/#top"  // go') == 'url = "http://x.org/#top"'
    assert normalise_code("#include <stdio.h>", "main.c") == "# include < stdio . h >"
    assert normalise_code("#include <stdio.h>") == "# include < stdio . h >"
    sql = "SELECT a -- the key\nFROM t /* all\nrows */ WHERE b = 'x--y'"
    assert normalise_code(sql, "q.sql") == "SELECT a\nFROM t\nWHERE b = 'x--y'"
    # In Python // divides.
    assert normalise_code("half = n // 2", "calc.py") == "half = n / / 2"


def test_a_dedented_snippet_is_found_in_indented_code() -> None:
    snippet = """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    """
    assert code_presence(PUBLISH_TASKS, snippet)


def test_elision_lines_match_any_lines_between_ordered_segments() -> None:
    after = """
db = SessionLocal()
try:
    # ... task logic
finally:
    db.close()  # Guaranteed cleanup
"""
    assert code_presence(PUBLISH_TASKS, after)
    assert code_presence(PUBLISH_TASKS, "db = SessionLocal()\n...\nloop.close()")
    assert code_presence(PUBLISH_TASKS, "try:\n    ... load the post\nrunner = Runner(post)")
    assert code_presence(PUBLISH_TASKS, "import asyncio\n// ...\ndb.close()  # Guaranteed cleanup")
    # Segments must keep their order.
    assert not code_presence(
        PUBLISH_TASKS, "db.close()  # Guaranteed cleanup\n# ...\nimport asyncio"
    )


def test_segments_must_be_contiguous_between_elisions() -> None:
    assert not code_presence(PUBLISH_TASKS, "db = SessionLocal()\nfinally:")


def test_an_ellipsis_inside_a_line_stands_for_any_text_on_that_line() -> None:
    assert code_presence(PUBLISH_TASKS, "result = loop.run_until_complete(runner.run_publish(...))")
    assert not code_presence(PUBLISH_TASKS, "result = asyncio.run(runner.run_publish(...))")


def test_changed_code_is_not_present_even_if_similar() -> None:
    assert not code_presence(PUBLISH_TASKS, "db = next(get_db())")
    assert not code_presence(PUBLISH_TASKS, "DB = SessionLocal()")
    # Comments are not code: the line without its comment is the same statement, and so is
    # the call with a space before its parenthesis.
    assert code_presence(PUBLISH_TASKS, "db.close()")
    assert code_presence(PUBLISH_TASKS, "db = SessionLocal ()")


def test_marker_comments_and_reformatting_do_not_hide_the_code() -> None:
    snippet = """
    # ✅ FIXED: one loop per task
    loop = asyncio.new_event_loop()   # new
    asyncio.set_event_loop(
        loop
    )
    """
    found = code_match(PUBLISH_TASKS, snippet, "publish_tasks.py")
    assert found.found and found.score == 1.0
    assert (found.span.start, found.span.end) == (9, 10)
    assert found.describe() == "found at lines 9–10 (score 1.00)"


def test_a_near_copy_scores_high_and_an_unrelated_block_shows_its_closest_span() -> None:
    # One argument changed in a long snippet: still the reviewer's "same code".
    edited = (
        "post = db.get(Post, task_id)\nrunner = Runner(post)\nloop = asyncio.new_event_loop()\n"
    )
    near = code_match(PUBLISH_TASKS, edited.replace("task_id", "post_id"))
    assert near.found and 0.8 <= near.score < 1.0
    other = code_match(PUBLISH_TASKS, "session = make_session()\nsession.commit()\nreturn post")
    assert not other.found and other.score < 0.5
    assert other.describe().startswith("closest span line")
    assert other.detail()["threshold"] == 0.8 and "text" in other.detail()["span"]
    nothing = code_match(PUBLISH_TASKS, "zzz_unknown_name()")
    assert not nothing.found and nothing.span is None and nothing.score == 0.0


def test_the_closest_span_text_is_the_files_own_lines_trimmed() -> None:
    found = code_match(PUBLISH_TASKS, "loop.close()\n...\ndb.close()")
    assert found.found and (found.span.start, found.span.end) == (14, 16)
    assert (
        found.span.text
        == "            loop.close()\n    finally:\n        db.close()  # Guaranteed cleanup"
    )
    big = "\n".join(f"value_{i} = compute({i})" for i in range(200))
    span = code_match(big, "\n".join(f"value_{i} = compute({i})" for i in range(60))).span
    assert span is not None and span.text.endswith("\n…") and span.text.count("\n") == 40


def test_matching_in_a_large_file_stays_fast() -> None:
    lines = [
        f"    total_{i % 97} = helper_{i % 89}(items[{i}], flag={i % 3 == 0})" for i in range(5000)
    ]
    lines[4100:4103] = ["    db = SessionLocal()", "    try:", "        publish(post_id)"]
    text = "\n".join(lines)
    started = time.perf_counter()
    for _ in range(10):
        found = code_match(text, "db = SessionLocal()\ntry:\n    publish(post_id)", "big.py")
        missing = code_match(text, "total_1 = helper_2(items[5], flag=True)\nreturn None")
    elapsed = (time.perf_counter() - started) / 20
    assert found.found and found.span.start == 4101
    assert not missing.found
    assert elapsed < 0.05, f"{elapsed:.3f} s per match"


def test_a_snippet_with_no_code_cannot_be_judged() -> None:
    for snippet in ["", "\n\n", "# ... nothing here\n...\n"]:
        with pytest.raises(GitError, match="no code lines"):
            code_presence(PUBLISH_TASKS, snippet)


def test_a_one_token_fix_is_told_apart_from_its_before_block() -> None:
    before = "try:\n    return open(path).read()\nexcept:\n    return None"
    after = before.replace("except:", "except OSError:")
    fixed = "def load(path):\n" + "\n".join(f"    {line}" for line in after.splitlines())
    alone = code_match(fixed, before)
    assert alone.found and alone.score < 1.0  # similar enough on its own...
    judged = code_match(fixed, before, rival=after)
    assert not judged.found and judged.rival_wins  # ...but the AFTER block fits better
    assert "but the other block fits those lines as well or better" in judged.describe()
    assert code_match(fixed, after, rival=before).found
    # Nothing to compete with: a rival that is not in the file changes nothing.
    assert code_match(fixed, after, rival="session.close()\nreturn session").found


VALIDATOR = """\
public class ImageCheck {
    private static boolean verify(MultipartFile file) {
        try {
            String extension = extensionOf(file.getOriginalFilename());
            log.debug("checking an upload of type {}", extension);
            long size = file.getSize();
            if (size == 0 || size > MAX_UPLOAD_BYTES) {
                return false;
            }
            if ("svg".equals(extension)) {
                return validateSvg(file);
            }
            BufferedImage image = ImageIO.read(file.getInputStream());
            if (image == null) {
                return false;
            }
            int width = image.getWidth();
            int height = image.getHeight();
            if (width > 10000 || height > 10000) {
                return false;
            }
            if (width <= 0 || height <= 0) {
                return false;
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
"""


def test_a_shortened_quote_is_found_when_nearly_all_of_it_is_in_order_nearby() -> None:
    # The document drops the try block, the SVG branch and a check: its lines are all there.
    quoted = """
    private static boolean verify(MultipartFile file) {
        BufferedImage image = ImageIO.read(file.getInputStream());
        if (image == null) {
            return false;  // ✅ not an image
        }
        int width = image.getWidth();
        int height = image.getHeight();
        if (width > 10000 || height > 10000) {
            return false;
        }
        return true;
    }
    """
    found = code_match(VALIDATOR, quoted, "ImageCheck.java")
    assert found.found and found.score < 0.8 and found.coverage >= 0.95
    assert "a shortened quote" in found.describe()
    assert found.detail()["coverage"] >= 0.95
    # A quote whose new statement is not in the file is not rescued by the rest of it.
    missing = quoted.replace("int height = image.getHeight();", "scanner.reject(image, limits);")
    assert not code_match(VALIDATOR, missing, "ImageCheck.java").found
    # An exact presence question is never answered by a shortened quote.
    assert not code_presence(VALIDATOR, quoted)


def test_a_comment_saying_where_the_next_part_lives_is_a_jump_in_the_quote() -> None:
    quoted = (
        "import asyncio\n\n# In the publish function:\n"
        "runner = Runner(post)\nloop = asyncio.new_event_loop()\n"
    )
    assert code_presence(PUBLISH_TASKS, quoted)
    assert not code_presence(PUBLISH_TASKS, quoted.replace("# In the publish function:\n", ""))


def test_terminal_sessions_and_prose_are_told_from_code() -> None:
    assert shell_session("# BEFORE: accepted\n$ curl -X POST http://x/login \\\n  -d '{}'\n")
    assert not shell_session("total=$(ls | wc -l)\necho $total\n")
    assert plain_text("User has 100 USDC\nPays out 50 USDC twice\nResult: 150 USDC paid\n")
    assert not plain_text("retries: 3\ntimeout: 10\n")
    assert not plain_text(PUBLISH_TASKS)
    assert not plain_text("from src.celery_app import celery_app  # explicit file\n")


def test_markup_comments_are_dropped_when_the_language_is_unknown() -> None:
    page = '<iframe src="https://x.test"></iframe>\n<p>hello</p>\n'
    assert normalise_code(page + "<!-- Result: refused -->\n") == normalise_code(page)
    assert code_presence(page, '<iframe src="https://x.test"></iframe>  <!-- blocked ✅ -->')
