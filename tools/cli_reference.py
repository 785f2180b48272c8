"""The CLI reference (docs/cli.md), made from the commands' own --help.

Regenerate with ``python -m tools.cli_reference > docs/cli.md``; a test fails when the file
and the commands disagree, so a command cannot go undocumented.
"""

from __future__ import annotations

import click

from dsg.cli import main

WIDTH = 88


def help_text(
    command: click.Command, path: list[str], parent: click.Context | None = None
) -> tuple[str, click.Context]:
    context = click.Context(command, info_name=path[-1], parent=parent, terminal_width=WIDTH, max_content_width=WIDTH)
    return command.get_help(context), context


def cli_reference() -> str:
    parts = [
        "# CLI reference",
        "",
        "Made from each command's `--help` by `python -m tools.cli_reference`; do not edit by hand.",
        "",
    ]

    def walk(command: click.Command, path: list[str], parent=None) -> None:
        text, context = help_text(command, path, parent)
        parts.extend([f"## `{' '.join(path)}`", "", "```", text, "```", ""])
        if isinstance(command, click.Group):
            for name in command.list_commands(context):
                walk(command.get_command(context, name), [*path, name], context)

    walk(main, ["dsg"])
    return "\n".join(parts)


if __name__ == "__main__":
    print(cli_reference(), end="")
