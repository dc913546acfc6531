"""The one exception type users see: a message that names the problem and the fix."""


class EvalkitError(Exception):
    """A user-facing error. The CLI prints its message on one line, without a traceback."""
