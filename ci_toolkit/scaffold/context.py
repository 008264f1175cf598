"""The choices of `ci-toolkit scaffold`, checked, and the variables the templates see.

Every value that ends up in a workflow is checked here against a strict pattern: the
workflows are code that runs with the repository's token, so nothing may smuggle a newline,
a quote or a `${{ }}` expression into them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ci_toolkit import __version__
from ci_toolkit.errors import UsageError
from ci_toolkit.pipeline.project import RasaProject
from ci_toolkit.scaffold.deploy_values import deploy_context

DEFAULT_RASA_VERSION = "3.6.21"
DEPLOY_TARGETS = ("none", "rasa-x", "rasa-server")
# Helm value key presets (ci_toolkit/deploy/helm.py IMAGE_KEY_PRESETS), plus "none": no helm.
CHART_PRESETS = ("none", "assistant-ci", "rasa-x", "rasa")

# Third-party actions the workflows use, pinned to a commit (what a tag pointed to when this
# release was made), with the tag in a comment for humans and for Dependabot.
PINNED_ACTIONS: dict[str, str] = {
    "checkout": "actions/checkout@8e8c483db84b4bee98b60c0593521ed34d9990e8 # v6.0.1",
    "setup_python": "actions/setup-python@a309ff8b426b58ec0e2a45f0f869d46889d02405 # v6.2.0",
    "cache": "actions/cache@cdf6c1fa76f9f475f3d7449005a359c84ca0f306 # v5.0.3",
    "cache_save": "actions/cache/save@cdf6c1fa76f9f475f3d7449005a359c84ca0f306 # v5.0.3",
    "upload_artifact": "actions/upload-artifact@b7c566a772e6b6bfb58ed0dc250532a479d7789f # v6.0.0",
    "download_artifact":
        "actions/download-artifact@37930b1c2abaa49bbe596cd826c3c89aef350131 # v7.0.0",
    "setup_helm": "azure/setup-helm@b9e51907a09c216f16ebe8536097933489208112 # v4.3.0",
}

WORKFLOW_FILES = {
    "ci": "assistant-ci.yml",
    "cd": "assistant-cd.yml",
    "cross_validation": "assistant-cross-validation.yml",
}
REPORT_ARTIFACT = "assistant-ci-report"
MODEL_ARTIFACT = "assistant-model"

_PATH = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*$")
_REGISTRY = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)*$")
_IMAGE_NAME = re.compile(r"^[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")
_CRON_FIELD = re.compile(r"^[0-9*/,A-Za-z-]+$")
_PYTHON = re.compile(r"^3\.(8|9|10)$")
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-\[\],=<>!~+:/@]*$")
_ASSISTANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,51}[a-z0-9])?$")  # helm release / k8s namespace


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
    python_version: str = "3.10"
    toolkit_requirement: str = f"ci-toolkit=={__version__}"
    registry: str = "ghcr.io"
    image_name: str | None = None  # None: the repository's name, e.g. ghcr.io/org/bot
    deploy_target: str = "none"
    chart: str = "none"
    chart_ref: str | None = None  # None: the preset's usual chart
    values_file: str = "deploy/values.yml"
    release: str = "assistant"
    namespace: str | None = None
    default_branch: str = "main"
    schedule: str | None = "0 4 * * 1"  # None: no scheduled cross-validation workflow
    folds: int = 5
    pr_cross_validation: bool = True
    timeout_minutes: int = 90

    def __post_init__(self) -> None:
        check_options(self)


def _fail(option: str, value: object, expected: str) -> None:
    raise UsageError(f"{option} {value!r} is not valid: {expected}.")


def check_options(options: ScaffoldOptions) -> None:
    """Raise UsageError naming the option when a value could not go into a workflow safely."""
    for path in (options.project_dir, options.config, options.domain, *options.data,
                 options.tests or "tests", options.smoke_tests or "tests", options.values_file):
        if not _PATH.match(path) or ".." in Path(path).parts:
            _fail("the path", path, "scaffold writes paths into workflows, so they may only hold "
                  "letters, digits, '_', '.', '-' and '/', and stay inside the repository")
    if not _ASSISTANT.match(options.assistant_name):
        _fail("--assistant-name", options.assistant_name, "use letters, digits, spaces, '_', "
              "'.' and '-' (the name goes into the workflows)")
    if not _REGISTRY.match(options.registry):
        _fail("--registry", options.registry, "use a registry host in lower case, with an "
              "optional port and path, e.g. ghcr.io or registry.example.com:5000/team")
    if options.image_name is not None and not _IMAGE_NAME.match(options.image_name):
        _fail("--image-name", options.image_name, "use a lower-case image name such as "
              "my-org/my-assistant-actions (the registry goes in --registry)")
    if options.deploy_target not in DEPLOY_TARGETS:
        _fail("--deploy-target", options.deploy_target, f"use one of {', '.join(DEPLOY_TARGETS)}")
    if options.chart not in CHART_PRESETS:
        _fail("--chart", options.chart, f"use one of {', '.join(CHART_PRESETS)}")
    if options.chart_ref is not None and not _REQUIREMENT.match(options.chart_ref):
        _fail("--chart-ref", options.chart_ref, "use a chart reference such as "
              "rasa-x/rasa-x, oci://registry/charts/name or ./charts/assistant")
    if not _BRANCH.match(options.default_branch) or ".." in options.default_branch:
        _fail("--branch", options.default_branch, "use a branch name such as main")
    if options.schedule is not None:
        fields = options.schedule.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            _fail("--schedule", options.schedule, "use a cron expression with five fields, "
                  "e.g. '0 4 * * 1' (Mondays 04:00 UTC), or --no-schedule")
    if not _PYTHON.match(options.python_version):
        _fail("--python-version", options.python_version, "rasa 3 runs on Python 3.8 to 3.10")
    if not _REQUIREMENT.match(options.toolkit_requirement):
        _fail("--toolkit-requirement", options.toolkit_requirement,
              "use one pip requirement such as ci-toolkit==0.1.0")
    for option, value in (("--release", options.release), ("--namespace", options.namespace)):
        if value is not None and not _NAME.match(value):
            _fail(option, value, "use lower-case letters, digits and '-' (a Kubernetes name)")
    if not 2 <= options.folds <= 20:
        _fail("--folds", options.folds, "use 2 to 20 folds")
    if not 10 <= options.timeout_minutes <= 360:
        _fail("--timeout-minutes", options.timeout_minutes, "use 10 to 360 minutes")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix() or "."
    except ValueError:
        return path.as_posix()


def repository_root(start: Path) -> Path:
    """The git repository that holds ``start`` (where .github/ belongs), else ``start``."""
    for candidate in (start.resolve(), *start.resolve().parents):
        if (candidate / ".git").exists():
            return candidate
    return start.resolve()


def layout_of(project: RasaProject) -> dict[str, object]:
    """The project's files, relative to its directory, for ScaffoldOptions."""
    root = project.root
    smoke = next((path for path in (root / "tests" / "smoke.yml", root / "smoke.yml")
                  if path.is_file()), None)
    return {
        "smoke_tests": _relative(smoke, root) if smoke is not None else None,
        "config": _relative(project.config, root),
        "domain": _relative(project.domain, root),
        "data": tuple(_relative(path, root) for path in project.data),
        "tests": _relative(project.tests, root) if project.tests is not None else None,
        "has_actions": project.actions is not None and project.actions.is_dir(),
        "assistant_name": project.name,
    }


def project_dir_in(project: RasaProject, repo_root: Path) -> str:
    return _relative(project.root, repo_root)


def _yaml(value: object) -> str:
    # A JSON string is a valid double-quoted YAML scalar; numbers and booleans stay quoted
    # so YAML never turns "3.10" into 3.1.
    return json.dumps(value if isinstance(value, str) else str(value))


def template_context(options: ScaffoldOptions) -> dict[str, object]:
    """Everything the templates use (StrictUndefined: a missing name is an error)."""
    prefix = "" if options.project_dir == "." else options.project_dir.rstrip("/") + "/"

    def in_project(path: str) -> str:
        return prefix + path

    def tree(path: str) -> str:
        # A directory's files, or the file itself; paths filters and hashFiles take globs.
        return in_project(path) if path.endswith((".yml", ".yaml")) else in_project(path) + "/**"

    model_inputs = [in_project(options.config), tree(options.domain), *map(tree, options.data)]
    files = dict(WORKFLOW_FILES)
    if options.schedule is None:
        del files["cross_validation"]
    workflows = ".github/workflows/"
    watch_ci = [*model_inputs, in_project("requirements*.txt"), workflows + files["ci"]]
    if options.tests:
        watch_ci.insert(len(model_inputs), tree(options.tests))
    watch_cd = [*watch_ci[:-1], in_project("endpoints.yml"), in_project("credentials.yml"),
                workflows + files["cd"]]
    build_image = options.has_actions
    if build_image:
        watch_cd[-1:-1] = [in_project("actions/**"), in_project("Dockerfile"),
                           in_project(".dockerignore")]
    if options.chart != "none":
        watch_cd.insert(-1, in_project(options.values_file))
    image_name = options.image_name
    return {
        "toolkit_version": __version__,
        "toolkit_requirement": options.toolkit_requirement,
        "rasa_version": options.rasa_version,
        "python_version": options.python_version,
        "install_command": ("python -m pip install --disable-pip-version-check "
                            f'"rasa=={options.rasa_version}" "{options.toolkit_requirement}"'),
        "actions": PINNED_ACTIONS,
        "workflow_files": files,
        "report_artifact": REPORT_ARTIFACT,
        "model_artifact": MODEL_ARTIFACT,
        "project_dir": options.project_dir,
        "in_project": in_project,
        "assistant_name": options.assistant_name,
        "watch_paths_ci": watch_ci,
        "watch_paths_cd": watch_cd,
        "watch_paths_cross_validation": [in_project(options.config),
                                         workflows + files.get("cross_validation", "")],
        "cache_paths": [in_project(".rasa/cache"), in_project(".ci-toolkit/cache")],
        "hash_patterns": ", ".join(f"'{pattern}'" for pattern in model_inputs),
        "cache_key_prefix": f"assistant-ci-${{{{ runner.os }}}}-rasa{options.rasa_version}-",
        "pipeline_env_ci": _pipeline_env(options, cross_validation=options.pr_cross_validation,
                                         folds=3),
        "pipeline_env_cd": _pipeline_env(options, cross_validation=False, folds=3),
        "pipeline_env_cross_validation": _pipeline_env(options, cross_validation=True,
                                                       folds=options.folds, train=False),
        "cross_validation_on_pr": options.pr_cross_validation,
        "schedule": options.schedule,
        "folds": options.folds,
        "timeout_minutes": options.timeout_minutes,
        "default_branch": options.default_branch,
        "build_image": build_image,
        "registry": options.registry,
        "image_name": image_name,
        "deploy_target": options.deploy_target,
        "chart": options.chart,
        "chart_ref": options.chart_ref,
        "values_file": options.values_file,
        "release": options.release,
        "namespace": options.namespace,
        "deploys": options.deploy_target != "none" or options.chart != "none",
        "domain": options.domain,
        **deploy_context(options),
    }


def _pipeline_env(options: ScaffoldOptions, *, cross_validation: bool, folds: int,
                  train: bool = True) -> list[tuple[str, str]]:
    """The CI_TOOLKIT_* settings of one `ci-toolkit run`, spelled out for the reader."""
    env = [
        ("CI_TOOLKIT_CONFIGURATION", options.config),
        ("CI_TOOLKIT_DOMAIN", options.domain),
        ("CI_TOOLKIT_DATA", " ".join(options.data)),
    ]
    if options.tests and train:
        env.append(("CI_TOOLKIT_TESTS", options.tests))
    env.append(("CI_TOOLKIT_ASSISTANT_NAME", options.assistant_name))
    if not train:
        env += [("CI_TOOLKIT_RASA_TRAIN", "false"), ("CI_TOOLKIT_RASA_TEST", "false")]
    env.append(("CI_TOOLKIT_CROSS_VALIDATION", "true" if cross_validation else "false"))
    if cross_validation:
        env.append(("CI_TOOLKIT_FOLDS", str(folds)))
    return env


FILTERS = {"yaml": _yaml}
