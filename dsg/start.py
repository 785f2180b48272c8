"""The ``dsg`` program's entry point: Ctrl-C is caught from the first moment.

Importing the command line takes tens of milliseconds, and Ctrl-C in that time would end in a
Python traceback. Only the standard library's ``signal`` is imported here, and the handler it
installs simply remembers the interrupt: :func:`dsg.interrupts.handle_interrupts` acts on it
as soon as the real handler, which speaks the user's language and cleans up, is in place.
"""

from __future__ import annotations

import signal


class Deferred:
    """A SIGINT handler that only notes that Ctrl-C was pressed."""

    pending = False

    def __call__(self, signum, frame) -> None:
        self.pending = True


try:
    signal.signal(signal.SIGINT, Deferred())
except ValueError:  # not the main thread: nothing to defer
    pass


def main():
    from dsg.cli import main as dsg

    return dsg()
