"""Errors the user can act on: each names what is wrong and what is allowed."""


class VerblijfsregelsError(Exception):
    """Base class; the CLI turns these into one line and exit code 2."""


class KnowledgeBaseError(VerblijfsregelsError):
    """A declaration in kb/ is malformed, undeclared or ill-founded."""


class InputError(VerblijfsregelsError):
    """Applicant data that does not fit the vocabulary."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"veld '{field}': {message}" if field else message)
