"""The variables the workflow and chart-values templates see (StrictUndefined: every name
they use must be here)."""

from __future__ import annotations

from collections.abc import Callable

from ci_toolkit import __version__
from ci_toolkit.scaffold.deploy_values import deploy_context, yaml_scalar
from ci_toolkit.scaffold.matrix_context import lines, matrix_context
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

# Duckling for DucklingEntityExtractor. No digest could be looked up when this was written:
# pinned to the tag rasa's own charts use; replace it with rasa/duckling@sha256:<digest>.
DUCKLING_IMAGE = "rasa/duckling:0.2.0.2-r3"
DUCKLING_PORT = 8000  # where the image listens
MAX_DROP = "0.02"  # the default largest drop of a headline metric against the baseline

WORKFLOW_FILES = {
    "ci": "assistant-ci.yml",
    "cd": "assistant-cd.yml",
    "cross_validation": "assistant-cross-validation.yml",
    "config_comparison": "assistant-config-comparison.yml",
}
REPORT_ARTIFACT = "assistant-ci-report"
MODEL_ARTIFACT = "assistant-model"


def own_actions(options: ScaffoldOptions) -> dict[str, str]:
    """`uses:` of this repository's composite actions; they install ci-toolkit from their
    own checkout, so no workflow installs anything by a package name."""
    ref = options.action_ref
    if len(ref) == 40 and all(character in "0123456789abcdef" for character in ref):
        ref = f"{ref} # {options.action_tag}"
    return {key: f"{options.action_repo}{path}@{ref}"
            for key, path in (("pipeline", ""), ("action_server", "/action-server"),
                              ("deploy", "/deploy"), ("decide", "/matrix/decide"),
                              ("shard", "/matrix/shard"), ("merge", "/matrix/merge"))}


def template_context(options: ScaffoldOptions) -> dict[str, object]:
    """Everything the templates use (StrictUndefined: a missing name is an error)."""
    files = dict(WORKFLOW_FILES)
    if options.schedule is None:
        del files["cross_validation"]
    if not options.config_comparison:
        del files["config_comparison"]
    deploy = deploy_context(options)
    return {
        "toolkit_version": __version__,
        "rasa_version": options.rasa_version,
        "python_version": options.python_version,
        "actions": {**PINNED_ACTIONS, **own_actions(options)},
        "workflow_files": files,
        "report_artifact": REPORT_ARTIFACT,
        "model_artifact": MODEL_ARTIFACT,
        "project_dir": options.project_dir,
        "assistant_name": options.assistant_name,
        "duckling_image": DUCKLING_IMAGE,
        "duckling_ports": [f"{port}:{DUCKLING_PORT}" for port in options.duckling_ports],
        "duckling_url": options.duckling_url,
        **_paths_context(options, files),
        **_pipeline_context(options),
        **matrix_context(options, install_inputs(options), _in_project(options)),
        **_deploy_choices(options),
        **deploy,
        "deploy_inputs": lines(deploy["deploy_env"]),  # type: ignore[arg-type]
    }


def _in_project(options: ScaffoldOptions) -> Callable[[str], str]:
    prefix = "" if options.project_dir == "." else options.project_dir.rstrip("/") + "/"

    def in_project(path: str) -> str:
        return prefix + path

    return in_project


def _paths_context(options: ScaffoldOptions, files: dict[str, str]) -> dict[str, object]:
    """The paths the workflows watch, prefixed with the project's directory; none at all
    without paths filters."""
    in_project = _in_project(options)

    def tree(path: str) -> str:
        # A directory's files, or the file itself; paths filters take globs.
        return in_project(path) if path.endswith((".yml", ".yaml", ".py")) \
            else in_project(path) + "/**"

    # Everything that changes the trained model: its inputs, the code of custom components
    # and the packages installed next to rasa (a rasa bump among them).
    model = [in_project(options.config), *map(tree, options.component_paths),
             in_project("requirements*.txt")]
    workflows = ".github/workflows/"
    watch_ci = [*model, tree(options.domain), *map(tree, options.data)]
    if options.tests:
        watch_ci.append(tree(options.tests))
    if options.has_actions:  # the contract tests of the custom actions run on them
        watch_ci.append(in_project("actions/**"))
    watch_cd = [*watch_ci, in_project("endpoints.yml"), in_project("credentials.yml")]
    if options.has_actions:
        watch_cd += [in_project("Dockerfile"), in_project(".dockerignore")]
    if options.chart != "none":
        watch_cd.append(in_project(options.values_file))
    # Cross-validation reads the configuration and the NLU data (inside the data paths).
    watch_cv = [*model, *map(tree, options.data)]
    return {
        "in_project": in_project,
        "paths_filter": options.paths_filter,
        "watch_paths_ci": [*watch_ci, workflows + files["ci"]],
        "watch_paths_cd": [*watch_cd, workflows + files["cd"]],
        "watch_paths_cross_validation": [*watch_cv,
                                         workflows + files.get("cross_validation", "")],
    }


def _pipeline_context(options: ScaffoldOptions) -> dict[str, object]:
    """The inputs of the pipeline action in each workflow."""
    # The main-branch run is the baseline of pull requests: it cross-validates when they do,
    # so cross-validation is compared too, and its saved stage cache lets a pull request
    # that changes no model input reuse the folds.
    cv_on_pr = options.pr_cross_validation
    pipeline = _pipeline_inputs(options, cross_validation=cv_on_pr, folds=3)
    return {
        "ci_inputs": lines([*pipeline, *_gates(), *_action_tests(options)]),
        "cd_inputs": lines([*pipeline, ("publish_summary", '"false"'),
                            # Restore nothing (this model is deployed), save for PRs.
                            ("cache", '"save"'),
                            ("# Gates: a model that misses them is not deployed", ""),
                            ("# min", '"intent_f1>=0.9 entity_f1>=0.8"'),
                            ("# fail_on_failed_stories", '"true"')]),
        "cross_validation_on_pr": cv_on_pr,
        "schedule": options.schedule,
        "folds": options.folds,
        "timeout_minutes": options.timeout_minutes,
        "default_branch": options.default_branch,
    }


def _gates() -> list[tuple[str, str]]:
    """The pull request's gates: on by default, visible, and adjustable right here."""
    return [("baseline", '"${{ runner.temp }}/baseline/report.json"'),
            ("# Gates: a failed test story fails the run, and so does a headline metric",
             ""),
            ("# more than max_drop below the target branch's last report.", ""),
            ("fail_on_failed_stories", '"true"'),
            ("max_drop", yaml_scalar(MAX_DROP)),
            ("# min", '"intent_f1>=0.9 entity_f1>=0.8"')]


def _action_tests(options: ScaffoldOptions) -> list[tuple[str, str]]:
    """The contract tests of the custom actions, gated like the model (docs/action-tests.md)."""
    if not options.has_actions:
        return []
    return [("# Contract tests: every custom action and the cases in tests/actions/*.yml,", ""),
            ("# against a server started from actions/; a failed check fails the run.", ""),
            ("action_tests", '"true"'),
            ("fail_on_action_errors", '"true"')]


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
        "workspace_input": (None if options.project_dir == "."
                            else f"workspace: {yaml_scalar(options.project_dir)}"),
    }


def _pipeline_inputs(options: ScaffoldOptions, *, cross_validation: bool,
                     folds: int) -> list[tuple[str, str]]:
    """The inputs of one pipeline run, spelled out for the reader."""
    entries = install_inputs(options)
    entries += [("configuration", yaml_scalar(options.config)),
                ("domain", yaml_scalar(options.domain)),
                ("data", yaml_scalar(" ".join(options.data)))]
    if options.tests:
        entries.append(("tests", yaml_scalar(options.tests)))
    entries.append(("assistant_name", yaml_scalar(options.assistant_name)))
    entries.append(("cross_validation", '"true"' if cross_validation else '"false"'))
    if cross_validation:
        entries.append(("folds", yaml_scalar(str(folds))))
    return entries


def install_inputs(options: ScaffoldOptions) -> list[tuple[str, str]]:
    """The inputs that say where the project is and which rasa to install (the pipeline
    action's and the shard action's)."""
    entries = []
    if options.project_dir != ".":
        entries.append(("workspace", yaml_scalar(options.project_dir)))
    entries.append(("python_version", yaml_scalar(options.python_version)))
    if options.rasa_requirements:
        entries.append(("rasa_requirements", yaml_scalar(options.rasa_requirements)))
    else:
        entries.append(("# Custom components, spaCy models (wheel URLs or packages), ...",
                        ""))
        entries.append(("# rasa_requirements", '"requirements.txt"'))
    if options.rasa_from_requirements:
        entries.append((f"# The rasa release is {options.rasa_requirements}'s `rasa==` pin, "
                        "read at run time.", ""))
    else:
        entries.append(("rasa_version", yaml_scalar(options.rasa_version)))
    return entries


FILTERS = {"yaml": yaml_scalar}
