"""brightline.etiquette — service-language rules shared by every service that writes to customers.

from brightline.etiquette import PhraseBook, ForbiddenPhraseError
book = PhraseBook.load()            # the shipped forbidden_phrases.yaml
book.check("这个不归我们管")          # -> [Violation(phrase="不归我们管", start=2, end=7, ...)]
book.ensure_polite(reply_text)      # raises ForbiddenPhraseError naming the phrase(s)
"""

from brightline.etiquette.phrases import (
    ForbiddenPhraseError,
    PhraseBook,
    PhraseBookFile,
    PhraseEntry,
    Violation,
    check,
    default_book,
    ensure_polite,
    normalise,
)

__all__ = [
    "ForbiddenPhraseError",
    "PhraseBook",
    "PhraseBookFile",
    "PhraseEntry",
    "Violation",
    "check",
    "default_book",
    "ensure_polite",
    "normalise",
]
