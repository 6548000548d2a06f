"""Shared route dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from brightline.etiquette import ForbiddenPhraseError, PhraseBook
from brightline.intake.handlers import phrase_book_at
from brightline.platform.problems import Problem


async def phrase_book(request: Request) -> PhraseBook:
    # async: a plain def dependency costs a thread-pool hop per request; the book is cached
    # after its first load.
    return phrase_book_at(request.app.state.settings.forbidden_phrases_file)


PhraseBookDep = Annotated[PhraseBook, Depends(phrase_book)]


def forbidden_phrase_problem(error: ForbiddenPhraseError, field: str) -> Problem:
    phrases = list(dict.fromkeys(v.phrase for v in error.violations))
    return Problem(
        422,
        "forbidden-phrase",
        "Text to the customer contains forbidden service phrases (服务忌语)",
        str(error),
        phrases=phrases,
        errors=[
            {
                "field": field,
                "message": f"forbidden phrase “{v.phrase}”"
                + (f"; say instead: {v.suggestion}" if v.suggestion else ""),
            }
            for v in error.violations
        ],
    )
