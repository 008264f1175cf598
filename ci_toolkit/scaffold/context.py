"""The variables the workflow and chart-values templates see (StrictUndefined: every name
they use must be here)."""

from __future__ import annotations

from collections.abc import Callable

from ci_toolkit import __version__
from ci_toolkit.scaffold.deploy_values import deploy_context, yaml_scalar
from ci_toolkit.scaffold.options import ScaffoldOptions

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


def template_context(options: ScaffoldOptions) -> dict[str, object]:
    """Everything the templates use (StrictUndefined: a missing name is an error)."""
    files = dict(WORKFLOW_FILES)
    if options.schedule is None:
        del files["cross_validation"]
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
        "assistant_name": options.assistant_name,
        **_paths_context(options, files),
        **_pipeline_context(options),
        **_deploy_choices(options),
        **deploy_context(options),
    }


def _in_project(options: ScaffoldOptions) -> Callable[[str], str]:
    prefix = "" if options.project_dir == "." else options.project_dir.rstrip("/") + "/"

    def in_project(path: str) -> str:
        return prefix + path

    return in_project


def _paths_context(options: ScaffoldOptions, files: dict[str, str]) -> dict[str, object]:
    """The paths the workflows watch, cache and hash, prefixed with the project's directory."""
    in_project = _in_project(options)

    def tree(path: str) -> str:
        # A directory's files, or the file itself; paths filters and hashFiles take globs.
        return in_project(path) if path.endswith((".yml", ".yaml")) else in_project(path) + "/**"

    model_inputs = [in_project(options.config), tree(options.domain), *map(tree, options.data)]
    workflows = ".github/workflows/"
    watch_ci = [*model_inputs, in_project("requirements*.txt"), workflows + files["ci"]]
    if options.tests:
        watch_ci.insert(len(model_inputs), tree(options.tests))
    watch_cd = [*watch_ci[:-1], in_project("endpoints.yml"), in_project("credentials.yml"),
                workflows + files["cd"]]
    if options.has_actions:
        watch_cd[-1:-1] = [in_project("actions/**"), in_project("Dockerfile"),
                           in_project(".dockerignore")]
    if options.chart != "none":
        watch_cd.insert(-1, in_project(options.values_file))
    return {
        "in_project": in_project,
        "watch_paths_ci": watch_ci,
        "watch_paths_cd": watch_cd,
        "watch_paths_cross_validation": [in_project(options.config),
                                         workflows + files.get("cross_validation", "")],
        "cache_paths": [in_project(".rasa/cache"), in_project(".ci-toolkit/cache")],
        "hash_patterns": ", ".join(f"'{pattern}'" for pattern in model_inputs),
    }


def _pipeline_context(options: ScaffoldOptions) -> dict[str, object]:
    """How each workflow runs `ci-toolkit run`."""
    return {
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
    }


def _deploy_choices(options: ScaffoldOptions) -> dict[str, object]:
    return {
        "build_image": options.has_actions,
        "registry": options.registry,
        "image_name": options.image_name,
        "deploy_target": options.deploy_target,
        "chart": options.chart,
        "chart_ref": options.chart_ref,
        "values_file": options.values_file,
        "release": options.release,
        "namespace": options.namespace,
        "deploys": options.deploy_target != "none" or options.chart != "none",
        "domain": options.domain,
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


FILTERS = {"yaml": yaml_scalar}
