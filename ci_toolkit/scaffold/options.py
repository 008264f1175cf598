"""What `ci-toolkit scaffold` is asked for, and the checked values the templates are given.

``ScaffoldRequest`` is the command's options, each declared once (default, choices, env var
and help: the click options are made from these fields). ``ScaffoldOptions`` is the request
resolved against the project (its files, its rasa version) and checked.

Every value that ends up in a workflow is checked here against a strict pattern: the
workflows are code that runs with the repository's token, so nothing may smuggle a newline,
a quote or a `${{ }}` expression into them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ci_toolkit import provenance
from ci_toolkit.errors import UsageError
from ci_toolkit.options import declared_field, setting
from ci_toolkit.scaffold.checks import (
    HELM_RELEASE,
    NAMESPACE,
    REGISTRY,
    branch_problem,
    chart_ref_problem,
    cron_problem,
    image_name_problem,
    label_problem,
    path_problem,
)

DEFAULT_RASA_VERSION = "3.6.21"
# The composite actions of this repository that the scaffolded workflows use (they install
# ci-toolkit from their own checkout, never by a package name). The one place these defaults
# are written. Pinned to a commit, as zizmor's unpinned-uses audit and GitHub's hardening
# guide ask: a commit also cannot be replaced by whoever controls the name later. The commit
# is the one this ci-toolkit was built from (ci_toolkit/provenance.py), so the workflows run
# the same version as the toolkit that wrote them, and the tag in the comment next to it
# (for people and Dependabot) is that version's; only when the commit cannot be known is the
# major version's moving tag used instead.
DEFAULT_ACTION_REPO = "assistant-ci/assistant-ci"
DEFAULT_ACTION_REF = provenance.source_commit() or provenance.major_tag()
DEFAULT_ACTION_TAG = provenance.release_tag()
PATHS_FILTER_HELP = (
    "Trigger the workflows on every push and pull request, without `paths:` filters. With "
    "filters (the default), a pull request that changes none of the watched paths runs no "
    "workflow; a required status check from a workflow that did not run stays 'Expected' "
    "(pending) and blocks merging. Make the checks of filtered workflows not required, or "
    "use this mode when they must be required.")
DEPLOY_TARGETS = ("none", "rasa-x", "rasa-server")
# The label that asks for the expensive matrix workflows on a pull request (Rasa's docs
# suggest labelling pull requests that need a full NLU test).
DEFAULT_TRIGGER_LABEL = "needs-nlu-test"
# Helm value key presets (ci_toolkit/deploy/helm.py IMAGE_KEY_PRESETS), plus "none": no helm.
CHART_PRESETS = ("none", "assistant-ci", "rasa-x", "rasa")


@dataclass(frozen=True)
class ScaffoldRequest:
    """The options of `ci-toolkit scaffold`, before the project is looked at."""

    directory: Path = setting(help="The Rasa assistant.", envvar="WORKSPACE")  # DIRECTORY
    config: str | None = setting(
        None, envvar="CONFIGURATION", metavar="FILE",
        help="The model configuration, relative to DIRECTORY. [default: config.yml]")
    domain: str | None = setting(
        None, envvar="DOMAIN", metavar="PATH",
        help="The domain file or directory. [default: domain.yml or domain/]")
    data: tuple[str, ...] = setting(
        (), envvar="DATA", metavar="PATH", multiple=True,
        help="Training data file or directory (repeatable). [default: data]")
    tests: str | None = setting(
        None, envvar="TESTS", metavar="PATH",
        help="Test stories file or directory. [default: tests, when it exists]")
    assistant_name: str | None = setting(
        None, envvar="ASSISTANT_NAME",
        help="Name shown in summaries and comments. [default: DIRECTORY's name]")
    rasa_version: str | None = setting(
        None, envvar="RASA_VERSION",
        help="The rasa release the workflows install. [default: the version the "
             f"project's requirements*.txt pins, else {DEFAULT_RASA_VERSION}]")
    python_version: str = setting(
        "3.10", envvar="PYTHON_VERSION",
        help="Python for rasa and ci-toolkit, which share one environment: 3.10 (rasa 3.4 "
             "to 3.6 run on it).")
    action_repo: str = setting(
        DEFAULT_ACTION_REPO, envvar="ACTION_REPO", metavar="OWNER/NAME",
        help="The repository of the assistant-ci actions the workflows use (uses: "
             "OWNER/NAME@REF, OWNER/NAME/action-server@REF, OWNER/NAME/deploy@REF); they "
             "install ci-toolkit from their own checkout. A fork or a mirror goes here.")
    action_ref: str = setting(
        DEFAULT_ACTION_REF, envvar="ACTION_REF", metavar="SHA|TAG",
        help="The commit (40 hex digits, recommended: zizmor and GitHub's hardening guide "
             "ask for it) or tag of --action-repo the workflows use. [default: the commit "
             "this ci-toolkit was built from; from a checkout, its HEAD: push it first]")
    action_tag: str = setting(
        DEFAULT_ACTION_TAG, envvar="ACTION_TAG", metavar="TAG",
        help="The tag written as a comment next to a commit --action-ref (`# v0.1.0`), "
             "for people and Dependabot. [default: this ci-toolkit's version]")
    no_paths_filter: bool = setting(
        False, envvar="NO_PATHS_FILTER", is_flag=True, help=PATHS_FILTER_HELP)
    registry: str = setting(
        "ghcr.io", envvar="DOCKER_REGISTRY",
        help="Registry the action-server image is pushed to. ghcr.io needs no secret: "
             "the workflow's token can push there.")
    image_name: str | None = setting(
        None, envvar="DOCKER_IMAGE_NAME", metavar="NAME",
        help="Name of the action-server image in the registry. [default: the GitHub "
             "repository's owner/name, in lower case]")
    deploy_target: str = setting(
        "none", choices=DEPLOY_TARGETS, envvar="DEPLOY_TARGET",
        help="Where the main-branch workflow sends the trained model: upload it to Rasa X "
             "and tag it production, load it on a Rasa server (PUT /model), or nowhere.")
    chart: str = setting(  # the option is --chart-preset
        "none", choices=CHART_PRESETS, envvar="CHART_PRESET",
        help="Helm chart whose value keys get the new image (assistant-ci: this "
             "toolkit's chart, actionServer.image.*; rasa-x: app.name/app.tag; rasa: "
             "image.repository/image.tag). With a preset, the main-branch workflow runs "
             "`helm upgrade` and writes a values file. none: no helm.")
    chart_ref: str | None = setting(
        None, envvar="HELM_CHART", metavar="CHART",
        help="The chart to install, e.g. rasa-x/rasa-x or oci://... [default: the "
             "preset's usual chart]")
    values_file: str = setting(
        "deploy/values.yml", envvar="VALUES_FILE", metavar="PATH",
        help="Where the chart values go, relative to DIRECTORY.")
    release: str = setting("assistant", envvar="HELM_RELEASE", help="The helm release name.")
    namespace: str | None = setting(
        None, envvar="HELM_NAMESPACE",
        help="Kubernetes namespace of the release. [default: the kube context's]")
    default_branch: str = setting(  # the option is --branch
        "main", envvar="DEFAULT_BRANCH",
        help="The branch that deploys; pull requests into it are compared with its last "
             "report.")
    schedule: str = setting(
        "0 4 * * 1", envvar="SCHEDULE", metavar="CRON",
        help="When the full cross-validation workflow runs (UTC).")
    no_schedule: bool = setting(
        False, envvar="NO_SCHEDULE", is_flag=True,
        help="Do not write the scheduled cross-validation workflow.")
    folds: int = setting(
        5, envvar="SCHEDULE_FOLDS", type=int,
        help="Folds of the scheduled cross-validation (pull requests use 3).")
    pr_cross_validation: bool = setting(
        True, envvar="PR_CROSS_VALIDATION",
        help="Also cross-validate on pull requests (3 folds; cached while the NLU data "
             "does not change).")
    timeout_minutes: int = setting(
        90, envvar="TIMEOUT_MINUTES", type=int, help="Time limit of the pipeline jobs.")
    trigger_label: str = setting(
        DEFAULT_TRIGGER_LABEL, envvar="TRIGGER_LABEL", metavar="LABEL",
        help="A pull request with this label runs the sharded cross-validation and the "
             "config comparison whatever it changes; without it they run when a watched "
             "path changes (the configuration, the NLU data, ...).")
    no_config_comparison: bool = setting(
        False, envvar="NO_CONFIG_COMPARISON", is_flag=True,
        help="Do not write the workflow that compares the base branch's configuration with "
             "the pull request's when the configuration changes (or the label is set).")
    comparison_runs: int = setting(
        3, envvar="COMPARISON_RUNS", type=int, metavar="N",
        help="Runs of the config comparison (1 to 10): each configuration is trained and "
             "tested this many times, one matrix job per configuration and run.")
    skip: tuple[str, ...] = setting(
        (), envvar="SKIP", metavar="PATTERN", multiple=True,
        help="Never write files matching PATTERN (a glob on the path, e.g. "
             "'.github/workflows/assistant-cd.yml' or 'Dockerfile'). Repeatable.")
    dry_run: bool = setting(
        False, envvar="DRY_RUN", is_flag=True,
        help="Write nothing; show what would be written and the diff of each conflict.")
    force: bool = setting(
        False, envvar="FORCE", is_flag=True,
        help="Overwrite files that differ from what scaffold writes (their diffs are "
             "shown first with --dry-run).")


def _default(name: str) -> Any:
    """The request's default: an option the user did not give means the same thing here."""
    return declared_field(ScaffoldRequest, name).default


@dataclass(frozen=True)
class ScaffoldOptions:
    """What scaffold writes. Paths are POSIX; the layout ones are relative to project_dir."""

    project_dir: str  # the assistant, relative to the repository root ("." for the root)
    assistant_name: str
    config: str
    domain: str
    data: tuple[str, ...]
    tests: str | None
    has_actions: bool
    smoke_tests: str | None = None  # conversations for the post-deploy smoke test
    rasa_version: str = DEFAULT_RASA_VERSION
    python_version: str = _default("python_version")
    action_repo: str = _default("action_repo")
    action_ref: str = _default("action_ref")
    action_tag: str = _default("action_tag")
    paths_filter: bool = True
    # requirements.txt of the project (installed next to rasa), and whether its rasa pin
    # decides the rasa release at run time (no --rasa-version given).
    rasa_requirements: str | None = None
    rasa_from_requirements: bool = False
    # From config.yml: custom component packages (paths that change the model) and the
    # host ports DucklingEntityExtractor's url uses (the CI job starts Duckling there).
    component_paths: tuple[str, ...] = ()
    duckling_ports: tuple[int, ...] = ()
    duckling_url: str | None = None  # http://localhost:PORT when the url names another host
    registry: str = _default("registry")
    image_name: str | None = _default("image_name")  # None: the repository's name
    deploy_target: str = _default("deploy_target")
    chart: str = _default("chart")
    chart_ref: str | None = _default("chart_ref")  # None: the preset's usual chart
    values_file: str = _default("values_file")
    release: str = _default("release")
    namespace: str | None = _default("namespace")
    default_branch: str = _default("default_branch")
    schedule: str | None = _default("schedule")  # None: no scheduled cross-validation
    folds: int = _default("folds")
    pr_cross_validation: bool = _default("pr_cross_validation")
    timeout_minutes: int = _default("timeout_minutes")
    trigger_label: str = _default("trigger_label")
    config_comparison: bool = True
    comparison_runs: int = _default("comparison_runs")

    def __post_init__(self) -> None:
        check_options(self)


_PYTHON = re.compile(r"^3\.10$")
_ACTION_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_SHA = re.compile(r"^[0-9a-f]{40}$")
_SHORT_SHA = re.compile(r"^[0-9a-f]{7,39}$")
_LOCAL_URL = re.compile(r"^http://localhost:[0-9]{1,5}$")
_ASSISTANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


def _fail(option: str, value: object, expected: str) -> NoReturn:
    raise UsageError(f"{option} {value!r} is not valid: {expected}.")


def _check(option: str, value: object, problem: str | None) -> None:
    if problem is not None:
        _fail(option, value, problem)


def check_options(options: ScaffoldOptions) -> None:
    """Raise UsageError naming the option when a value could not go into a workflow safely.

    Runs before anything is rendered or written, so a bad value never leaves files behind.
    """
    _check_paths(options)
    _check_names(options)
    _check_image_and_chart(options)
    if not 2 <= options.folds <= 20:
        _fail("--folds", options.folds, "use 2 to 20 folds")
    if not 10 <= options.timeout_minutes <= 360:
        _fail("--timeout-minutes", options.timeout_minutes, "use 10 to 360 minutes")
    if not 1 <= options.comparison_runs <= 10:
        _fail("--comparison-runs", options.comparison_runs, "use 1 to 10 runs")
    _check("--trigger-label", options.trigger_label, label_problem(options.trigger_label))


def check_schedule(schedule: str) -> None:
    """The schedule is checked even with --no-schedule: a bad value is a mistake either way."""
    problem = cron_problem(schedule)
    if problem is not None:
        _fail("--schedule", schedule, f"{problem}. For example '0 4 * * 1' runs on Mondays "
              "at 04:00 UTC; --no-schedule writes no scheduled workflow")


def _check_paths(options: ScaffoldOptions) -> None:
    _check("DIRECTORY (as a path in the repository)", options.project_dir,
           path_problem(options.project_dir, inside="the repository"))
    inputs = [("--config", options.config), ("--domain", options.domain),
              *(("--data", path) for path in options.data)]
    if options.tests is not None:
        inputs.append(("--tests", options.tests))
    found = [("the smoke-test file", options.smoke_tests)] if options.smoke_tests else []
    found += [("a custom component package in the configuration", path)
              for path in options.component_paths]
    if options.rasa_requirements:
        found.append(("the requirements file", options.rasa_requirements))
    for port in options.duckling_ports:
        if not 1 <= port <= 65535:
            _fail("DucklingEntityExtractor's url", port, "use a port from 1 to 65535")
    if options.duckling_url is not None and not _LOCAL_URL.match(options.duckling_url):
        _fail("The Duckling URL", options.duckling_url, "use http://localhost:PORT")
    for option, path in (*inputs, *found, ("--values-file", options.values_file)):
        _check(option, path, path_problem(path, inside="DIRECTORY"))
    values = options.values_file
    if values in (".", "") or values.endswith("/"):
        _fail("--values-file", values, "name a file, such as deploy/values.yml")
    if posixpath.normpath(posixpath.join(options.project_dir, values)).startswith(
            ".github/workflows/"):
        _fail("--values-file", values, "GitHub would run it as a workflow; use a file "
              "outside .github/workflows/, such as deploy/values.yml")
    for option, path in inputs:
        if values == path or values.startswith(path + "/") or path.startswith(values + "/"):
            _fail("--values-file", values, f"it would overwrite the assistant's own files "
                  f"({option} {path}); use a file of its own, such as deploy/values.yml")


def _check_names(options: ScaffoldOptions) -> None:
    if not _ASSISTANT.match(options.assistant_name):
        _fail("--assistant-name", options.assistant_name, "use up to 64 letters, digits, "
              "spaces, '_', '.' and '-' (the name goes into the workflows); without the "
              "option, the name is DIRECTORY's")
    _check("--branch", options.default_branch, branch_problem(options.default_branch))
    if options.schedule is not None:
        check_schedule(options.schedule)
    if not _PYTHON.match(options.python_version):
        _fail("--python-version", options.python_version, "use 3.10: ci-toolkit needs Python "
              "3.10 and shares rasa's environment (rasa 3.4 to 3.6 run on it; rasa 3.0 to 3.3 "
              "need 3.8 or 3.9 and are not supported)")
    _check_action(options)
    if not HELM_RELEASE.match(options.release):
        _fail("--release", options.release, "use up to 53 lower-case letters, digits and '-', "
              "starting and ending with a letter or digit (a helm release name)")
    if options.namespace is not None and not NAMESPACE.match(options.namespace):
        _fail("--namespace", options.namespace, "use up to 63 lower-case letters, digits and "
              "'-', starting and ending with a letter or digit (a Kubernetes namespace)")


def _check_action(options: ScaffoldOptions) -> None:
    if not _ACTION_REPO.match(options.action_repo) or ".." in options.action_repo:
        _fail("--action-repo", options.action_repo, "use a GitHub repository as OWNER/NAME, "
              f"such as {DEFAULT_ACTION_REPO}")
    for option, ref in (("--action-ref", options.action_ref),
                        ("--action-tag", options.action_tag)):
        if _SHA.match(ref):
            continue
        if option == "--action-ref" and _SHORT_SHA.match(ref):
            _fail(option, ref, "GitHub resolves only a full commit SHA in `uses:`; give all "
                  "40 hex digits (git rev-parse TAG^{commit})")
        _check(option, ref, branch_problem(ref))


def _check_image_and_chart(options: ScaffoldOptions) -> None:
    if not REGISTRY.match(options.registry):
        _fail("--registry", options.registry, "use a registry host in lower case, with an "
              "optional port and path and no scheme, e.g. ghcr.io or "
              "registry.example.com:5000/team")
    if options.image_name is not None:
        _check("--image-name", options.image_name, image_name_problem(options.image_name))
    if options.deploy_target not in DEPLOY_TARGETS:
        _fail("--deploy-target", options.deploy_target, f"use one of {', '.join(DEPLOY_TARGETS)}")
    if options.chart not in CHART_PRESETS:
        _fail("--chart-preset", options.chart, f"use one of {', '.join(CHART_PRESETS)}")
    if options.chart_ref is not None:
        _check("--chart-ref", options.chart_ref,
               chart_ref_problem(options.chart_ref, options.project_dir))
