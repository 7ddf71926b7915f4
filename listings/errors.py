"""What can go wrong in a listings use case, in words the web and API layers translate."""


class ListingsError(Exception):
    """Base of the use-case errors."""


class NotFound(ListingsError):
    """No such object, or not one the caller may see (we do not reveal which)."""


class Forbidden(ListingsError):
    """The caller is known but may not do this."""


class Conflict(ListingsError):
    """The request clashes with the current state (a taken e-mail, a closed listing...)."""
