"""Ctrl-C at any moment: one line on stderr, every clean-up run, exit status 130.

Kept apart from dsg.cli so that the click layer stays thin; the CLI installs the handler
before it imports anything heavy, and again around each command.
"""

from __future__ import annotations

import os
import signal
import sys

from dsg.i18n import LANGUAGES, default_language, name_of


class Interrupted(SystemExit):
    """Ctrl-C: unwinds like an exit (every ``with`` and ``finally`` cleans up, click does not
    turn it into "Aborted!") and ends dsg with status 130."""


def language_in(args) -> str:
    """The language of ``--lang`` in ``args`` if given, else the default: for the few words
    said before (or instead of) click parsing the options."""
    args = [str(arg) for arg in args]
    for index, arg in enumerate(args):
        if arg == "--lang" and index + 1 < len(args) and args[index + 1].lower() in LANGUAGES:
            return args[index + 1].lower()
        if arg.startswith("--lang=") and arg[len("--lang=") :].lower() in LANGUAGES:
            return arg[len("--lang=") :].lower()
    return default_language()


# Whether this command has said it was interrupted, the arguments that give its language,
# and the line to say in each language: looked up when the handler is installed, because a
# look-up inside the handler may import (the glossary's first read) and an import that
# Ctrl-C has just cut short cannot be imported again.
interruption: dict = {"said": False, "args": None, "lines": {}}


def on_interrupt(signum, frame) -> None:
    """Ctrl-C at any moment: one line on stderr, then exit 130 once everything is cleaned up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut the clean-up short
    if not interruption["said"]:
        interruption["said"] = True
        args = sys.argv[1:] if interruption["args"] is None else interruption["args"]
        line = interruption["lines"][language_in(args)]
        os.write(2, f"{line}\n".encode())  # not sys.stderr: the program may be half-way through a write to it
    raise Interrupted(130)


def on_unraisable(unraisable, previous) -> None:
    """Ctrl-C that landed where Python cannot pass an exception on (a callback from C such as
    numba's, a finaliser) is raised again a moment later, back in ordinary code; anything
    else goes to the hook there was before."""
    if not isinstance(unraisable.exc_value, Interrupted):
        previous(unraisable)
        return
    import threading

    signal.signal(signal.SIGINT, on_interrupt)
    again = threading.Timer(0.005, os.kill, (os.getpid(), signal.SIGINT))
    again.daemon = True
    again.start()


def handle_interrupts(args=None) -> tuple | None:
    """Install :func:`on_interrupt` (and :func:`on_unraisable`); the handler and hook they
    replace, or None when signals cannot be handled here (not the main thread)."""
    interruption["lines"] = {lang: name_of("words", "interrupted", lang) for lang in LANGUAGES}
    earlier = signal.getsignal(signal.SIGINT)
    if earlier is not on_interrupt:  # not already said at start-up
        interruption["said"] = False
    interruption["args"] = args
    try:
        handler = signal.signal(signal.SIGINT, on_interrupt)
    except ValueError:
        return None
    hook, sys.unraisablehook = sys.unraisablehook, lambda unraisable: on_unraisable(unraisable, hook)
    if getattr(earlier, "pending", False):  # Ctrl-C while dsg was starting (see dsg.start)
        on_interrupt(signal.SIGINT, None)
    return handler, hook
