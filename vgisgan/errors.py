"""The one exception type users see as a clean error line (exit code 2)."""


class VgisganError(Exception):
    """Bad usage or bad input: the message says what is wrong, which file, and what to do."""
