"""The one exception type users see: a message that names the problem and the fix."""


class EvalkitError(Exception):
    """A user-facing error. The CLI prints its message on one line, without a traceback."""


def run_tool(name, body, interrupted='nothing was written'):
    """Run a command-line tool's ``body``; returns its exit status.

    A user-facing error (or a file that cannot be read or written) is one line on stderr, named
    after the tool, with status 2; Ctrl-C says what state it left, with status 130.
    """
    import sys
    try:
        return body() or 0
    except EvalkitError as exc:
        print(f'{name}: error: {exc}', file=sys.stderr)
    except OSError as exc:
        where = f': {exc.filename}' if exc.filename else ''
        print(f'{name}: error: {exc.strerror or exc}{where}', file=sys.stderr)
    except KeyboardInterrupt:
        print(f'{name}: interrupted; {interrupted}', file=sys.stderr)
        return 130
    return 2
