"""Errors the user can act on: each names what is wrong and what is allowed."""

from __future__ import annotations

import re

# A name quoted back in a message (a fact name, a column) is cut here: a key of a megabyte would
# otherwise become a megabyte-long error line. The longest fact name is 74 characters.
VISIBLE_LIMIT = 100


def escaped(text: str) -> str:
    """`text` with every character a terminal would act on written as an escape (\\x1b, \\u202e).

    A control character in a message could move the cursor, colour the terminal or break the
    one-line promise; bidi overrides and lone surrogates (from bytes that were no UTF-8) are
    unprintable in the same sense.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def visible(text: str, limit: int = VISIBLE_LIMIT) -> str:
    """User-given text as it may stand in a one-line message: escaped, and cut when long."""
    if len(text) > limit:
        return f"{escaped(text[:limit])}… ({len(text)} tekens)"
    return escaped(text)


# A name an error may quote from the input: it looks like a name of the vocabulary (lowercase,
# digits, underscores; the longest fact name is 74 characters, so a typo in it still qualifies).
# Anything else given as a name (a date, a number, a name with capitals or other characters) may
# be applicant data, and is named by its position instead.
NAME_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,99}")


def is_name(text: object) -> bool:
    """Whether `text`, given as a name in the input, may be quoted back in an error."""
    return isinstance(text, str) and NAME_PATTERN.fullmatch(text) is not None


class VerblijfsregelsError(Exception):
    """Base class; the CLI turns these into one line and exit code 2."""


class KnowledgeBaseError(VerblijfsregelsError):
    """A declaration in kb/ is malformed, undeclared or ill-founded."""


class InputError(VerblijfsregelsError):
    """Applicant data that does not fit the vocabulary.

    The message names the field and what is allowed, never the value: an error line ends up in
    terminals, logs and the batch output, and applicant data does not belong there.
    """

    def __init__(self, field: str, message: str, *, by_position: bool = False):
        """`field` is a field's name, or with `by_position` a description of where it stands
        (`sleutel 3`, `veld 'verblijfsvergunningen[0]', sleutel 2`) when its name may not be quoted."""
        self.field = field
        if not field:
            super().__init__(message)
        elif by_position:
            super().__init__(f"{field}: {message}")
        else:
            super().__init__(f"veld '{visible(field)}': {message}")
