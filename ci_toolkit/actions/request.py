"""What `ci-toolkit actions test` is asked to do: one frozen request, each field declared once
with its default, env var and help (ci_toolkit/options.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ci_toolkit.options import setting

RESULTS_FILE = "actions.json"


@dataclass(frozen=True)
class ActionsRequest:
    project_dir: Path = setting(Path("."), envvar="WORKSPACE",
                                help="The Rasa project: domain, actions/ and tests/actions/.")
    domain: Path | None = setting(
        None, envvar="DOMAIN", metavar="PATH",
        help="The domain file or directory, relative to PROJECT (the pipeline's --domain). "
             "[default: domain.yml, else the domain/ directory]")
    results_dir: Path | None = setting(
        None, envvar="ACTIONS_RESULTS_DIR", metavar="DIR",
        help="Where actions.json and the action server's log go. "
             "[default: PROJECT/results/actions]")
    python: str | None = setting(
        None, envvar="ACTIONS_PYTHON", metavar="PATH",
        help="The Python interpreter that has rasa-sdk and the actions' dependencies. "
             "[default: the python next to the rasa executable the pipeline uses "
             "(--rasa / CI_TOOLKIT_RASA, else PATH)]")
    url: str | None = setting(
        None, envvar="ACTION_SERVER_URL", metavar="URL",
        help="Test an action server that is already running (e.g. the built image's "
             "container) instead of starting one from actions/.")
    grpc: bool = setting(
        False, envvar="ACTIONS_GRPC",
        help="Run the checks over gRPC: start the server with `python -m rasa_sdk --grpc` "
             "and call it through rasa-sdk's own stubs in --python's interpreter. Needs "
             "rasa-sdk 3.9 or later (with grpcio) there; not with --url.")
    grpc_tls: bool = setting(
        False, envvar="ACTIONS_GRPC_TLS",
        help="With --grpc: serve TLS with a self-signed certificate made for the run "
             "(openssl), which the client trusts.")
    startup_timeout: float = setting(
        60.0, envvar="ACTIONS_STARTUP_TIMEOUT", metavar="SECONDS",
        help="How long the started action server may take to answer /health.")

    @property
    def results_root(self) -> Path:
        return self.results_dir or self.project_dir / "results" / "actions"

    def domain_path(self) -> Path:
        """The domain the checks are generated from (UsageError when there is none)."""
        from ci_toolkit.actions.domain import find_domain

        return self.project_dir / self.domain if self.domain else find_domain(self.project_dir)


@dataclass(frozen=True)
class ContainerContractTests:
    """`ci-toolkit image build --contract-tests`: the contract tests against the container of
    the image just built, before anything is pushed (ci_toolkit/actions/container.py)."""

    contract_tests: bool = setting(
        False, envvar="CONTRACT_TESTS",
        help="After the smoke test, run `ci-toolkit actions test` against the running "
             "container (protocol checks of every custom action, tests/actions/*.yml cases); "
             "a failed check stops the build before the push.")
    # ActionsRequest's --results-dir, offered by `image build` as --actions-results-dir.
    results_dir: Path | None = None
