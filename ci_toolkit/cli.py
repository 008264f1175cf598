"""The ``ci-toolkit`` command line: click wiring and the one error boundary.

Commands are imported only when they run, so ``ci-toolkit --help`` stays fast and never
imports docker, PyGithub or jinja2. Each command module turns its options into one call
into the package.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from ci_toolkit import __version__, interrupts
from ci_toolkit.errors import EXIT_BUG, EXIT_INTERRUPTED, Interrupted, ToolkitError
from ci_toolkit.gha import ActionsRuntime, mask_environment_secrets, report_error

# name -> (module, attribute, one-line help shown by `ci-toolkit --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("ci_toolkit.commands.pipeline", "run",
            "Validate, train, test and cross-validate; write report.json."),
    "validate": ("ci_toolkit.commands.pipeline", "validate",
                 "Run `rasa data validate` and report its findings."),
    "train": ("ci_toolkit.commands.pipeline", "train", "Train a model with `rasa train`."),
    "test": ("ci_toolkit.commands.pipeline", "test", "Test a model: core stories and NLU."),
    "cross-validate": ("ci_toolkit.commands.pipeline", "cross_validate",
                       "Cross-validate the NLU model."),
    "summary": ("ci_toolkit.commands.summary", "summary",
                "Render the Markdown summary of a report; post the PR comment."),
    "image": ("ci_toolkit.commands.image", "image",
              "Build, push and smoke-test the action-server image."),
    "deploy": ("ci_toolkit.commands.deploy", "deploy",
               "Upload the model, helm upgrade, smoke test, roll back on failure."),
    "smoke-test": ("ci_toolkit.commands.deploy", "smoke_test",
                   "Talk to a deployed assistant and check its answers."),
    "scaffold": ("ci_toolkit.commands.scaffold", "scaffold",
                 "Write workflows, Dockerfile and chart values into a project."),
    "compare": ("ci_toolkit.commands.compare", "compare",
                "Compare model configurations with rasa's own comparison mode."),
    "merge": ("ci_toolkit.commands.crossval", "merge",
              "Pool the shard reports of a sharded cross-validation."),
    "actions": ("ci_toolkit.commands.actions", "actions",
                "Contract-test the action server: protocol, cases, unit tests."),
}


def _show_envvars(command: click.Command) -> None:
    """Every option's help names its environment variable: that is how the actions set it."""
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar:
            param.show_envvar = True
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _show_envvars(sub)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module_name), attribute)
        _show_envvars(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Use the static help texts so that listing commands imports none of them.
        rows = [(name, help_text) for name, (_, _, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"],
                                              "max_content_width": 100})
@click.version_option(__version__, prog_name="ci-toolkit")
def cli() -> None:
    """CI/CD for Rasa assistants.

    Run the same pipeline on your machine (`ci-toolkit run`) that the GitHub Actions run on
    every pull request. Every option can also be set through the environment variable shown
    in its help; the actions pass their inputs that way.

    \b
    Exit codes: 0 passed, 1 a stage or gate failed, 2 bad usage or input,
    3 a bug in ci-toolkit, 129 hung up (SIGHUP), 130 interrupted (Ctrl-C, SIGINT),
    143 terminated (SIGTERM).
    """


def main(argv: list[str] | None = None) -> int:
    # A signal stops every process the command started and ends it with 128 + its number,
    # wherever it arrives: also in an error being reported below.
    with interrupts.handle_signals():
        try:
            return _main(argv)
        except Interrupted as stop:
            return interrupts.report(stop)


def _main(argv: list[str] | None) -> int:
    # Once for every command, before it starts anything: the runner then hides these
    # values in whatever any step or child prints, even where the toolkit does not redact.
    mask_environment_secrets(ActionsRuntime())
    try:
        cli.main(args=argv, prog_name="ci-toolkit", standalone_mode=False)
    except ToolkitError as error:
        return report_error(error, ActionsRuntime())
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except click.exceptions.Exit as done:
        return done.exit_code
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except Exception:
        traceback.print_exc()
        click.echo(
            f"error: this is a bug in ci-toolkit {__version__}. Please report it with the "
            "traceback above.",
            err=True,
        )
        return EXIT_BUG
    return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
