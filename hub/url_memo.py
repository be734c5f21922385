"""The hub's URLs, with what a path resolves to remembered by path (docs/performance.md#the-url-resolver).

Django tries a path against the URL patterns in order, and each `path("", include(...))` of
hub/urls.py is tried whole before the next: a model page's path went through about 140 patterns,
158 µs on every request, against 12 µs for the first pattern. The hub's URLs do not change while a
process runs, so the same path always resolves to the same view and arguments: the answer for a
path is kept after the first time (at most MEMO_SIZE paths a process; the memo starts over when
full). A path that resolves to nothing is not kept. Django's own root resolver wraps the kept
answer in a new ResolverMatch for each request, with its own dict of arguments, so a view or a
middleware that changes those changes nothing for the next request.
"""

from django.urls import URLResolver
from django.urls.resolvers import RegexPattern

MEMO_SIZE = 4096


class RememberingResolver(URLResolver):
    """`patterns`, included with no prefix (as `path("", include(patterns))`), resolved once a path."""

    def __init__(self, patterns: list):
        super().__init__(RegexPattern(r""), patterns)
        self._memo: dict[str, object] = {}

    def resolve(self, path):
        path = str(path)
        match = self._memo.get(path)
        if match is None:
            match = super().resolve(path)  # Resolver404 (nothing matched) is raised, not kept
            # The patterns tried before this one: only a 404 shows them, and the root resolver
            # would copy the whole list into every request's match.
            match.tried = None
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()  # simple bound: random paths cannot grow it, hot ones come back
            self._memo[path] = match
        return match
