"""Comparing document code with repository code: layout is ignored, nothing else is."""

from __future__ import annotations

import pytest

from scanners.git import GitError, code_presence, normalise_code

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


def test_normalising_drops_indentation_trailing_space_and_blank_lines_only() -> None:
    text = "\ufeff\tif x:\r\n\r\n        y  =\t'a  b'   \r\n\n# note\n"
    assert normalise_code(text) == "if x:\ny = 'a b'\n# note"
    # Quotes, comments and case are not touched.
    assert normalise_code('Y = "a"  # Note') == 'Y = "a" # Note'


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
    assert not code_presence(PUBLISH_TASKS, "db.close()")  # the comment is part of the line
    assert not code_presence(PUBLISH_TASKS, "DB = SessionLocal()")
    assert not code_presence(PUBLISH_TASKS, "db = SessionLocal ()")


def test_a_snippet_with_no_code_cannot_be_judged() -> None:
    for snippet in ["", "\n\n", "# ... nothing here\n...\n"]:
        with pytest.raises(GitError, match="no code lines"):
            code_presence(PUBLISH_TASKS, snippet)
