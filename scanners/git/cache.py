"""A cache of read-only git answers, owned by the caller and carried by a repository handle.

The git engine asks the same questions many times over a run of checks (the cited hash, the
branch, both ends of ``is_ancestor`` and every ``file_at`` resolve their commits again).
A caller that takes the repository as it was when its run began gives the run's handle a
:class:`GitCache` (``handle.cached(GitCache())``); :func:`scanners.git.command.git_read`
then answers a repeated read from it. A handle without a cache runs git every time, so
nothing changes for any other caller or thread.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

CACHE_BYTES = 64 * 1024 * 1024
"""The most git output one cache keeps by default; least recently used answers go first."""

CACHED_VERBS = frozenset(
    {"blame", "cat-file", "diff-tree", "log", "ls-tree", "merge-base", "rev-list", "rev-parse"}
)
"""The read-only git commands whose answers are kept."""

Answer = tuple[int, bytes, str]


class GitCache:
    """The answers of read-only git commands (:data:`CACHED_VERBS`) against one repository.

    Keyed by the arguments, the input and the accepted statuses. Failures (timeouts, git
    errors) raise before anything is kept, so a retry runs git again. At most ``limit``
    bytes of output are held (0: none, every read runs git). Not thread-safe: one run, one
    thread, one cache.
    """

    def __init__(self, limit: int = CACHE_BYTES) -> None:
        self.limit = limit
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._answers: OrderedDict[tuple, Answer] = OrderedDict()

    def answer(
        self,
        args: Sequence[str],
        *,
        stdin: bytes | None,
        ok_statuses: Sequence[int],
        run: Callable[[], Answer],
    ) -> Answer:
        """The kept answer to ``args``, else ``run()``'s (kept when it fits)."""
        if not args or args[0] not in CACHED_VERBS:
            return run()
        key = (tuple(args), stdin, tuple(ok_statuses))
        found = self._answers.get(key)
        if found is not None:
            self._answers.move_to_end(key)
            self.hits += 1
            return found
        self.misses += 1
        answer = run()
        weight = _weight(answer)
        if 0 < self.limit and weight <= self.limit:
            self._answers[key] = answer
            self.size += weight
            while self.size > self.limit:
                _, dropped = self._answers.popitem(last=False)
                self.size -= _weight(dropped)
        return answer


def _weight(answer: Answer) -> int:
    return len(answer[1]) + len(answer[2])
