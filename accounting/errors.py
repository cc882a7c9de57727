"""The accounting layer's error."""


class LedgerError(RuntimeError):
    """A posting that would break the books (negative amount, unknown party, closing a live balance)."""
