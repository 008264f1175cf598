"""What the model configuration asks of the workflows: custom components in the paths
filters, a Duckling service where the config's url points, install notes for spaCy and
transformers; plus the modes that change every workflow (no paths filters, our actions at a
chosen ref) and cross-validation in the baseline run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import ci_toolkit
from ci_toolkit import provenance
from ci_toolkit.cli import main
from ci_toolkit.scaffold.context import DUCKLING_IMAGE
from ci_toolkit.scaffold.options import DEFAULT_ACTION_REF, DEFAULT_ACTION_REPO, DEFAULT_ACTION_TAG

CI, CD, CV, CMP = (".github/workflows/assistant-ci.yml", ".github/workflows/assistant-cd.yml",
                   ".github/workflows/assistant-cross-validation.yml",
                   ".github/workflows/assistant-config-comparison.yml")
# The job of each workflow that runs rasa.
JOBS = {CI: "assistant", CD: "model", CV: "shard", CMP: "shard"}


def scaffold(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["scaffold", *args])
    return code, capsys.readouterr().err


def load(root: Path, name: str) -> dict[str, Any]:
    return yaml.safe_load((root / name).read_text(encoding="utf-8"))


def watched_paths(root: Path, name: str, event: str) -> list[str]:
    """The paths that start the workflow: its `paths:` filter, or its decide job's."""
    workflow = load(root, name)
    if "decide" not in workflow["jobs"]:
        return workflow[True][event]["paths"]
    decide = next(step for step in workflow["jobs"]["decide"]["steps"]
                  if step.get("id") == "decide")
    return decide["with"]["paths"].splitlines()


def add_to_pipeline(bot: Path, *components: dict[str, Any]) -> None:
    config = yaml.safe_load((bot / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"] = [*config["pipeline"], *components]
    (bot / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


# --- custom components are paths that change the model -------------------------------------

# (components added to the pipeline, files made, paths every workflow must watch, not watch)
@pytest.mark.parametrize(("components", "files", "watched", "not_watched"), [
    ([{"name": "components.sentiment.SentimentAnalyzer"}], ["components/sentiment.py"],
     ["components/**"], []),
    ([{"name": "my_nlu.Featurizer"}], ["my_nlu.py"], ["my_nlu.py"], []),
    # Installed from an index, not in the project: requirements.txt is watched already.
    ([{"name": "rasa_nlu_examples.featurizers.dense.FastTextFeaturizer"}], [],
     ["requirements*.txt"], ["rasa_nlu_examples/**"]),
    ([{"name": "DIETClassifier"}], [], ["config.yml"], []),
], ids=["package", "module", "installed", "built-in"])
def test_custom_component_packages_are_in_every_paths_filter(
        bot: Path, capsys: pytest.CaptureFixture[str], components: list[dict[str, Any]],
        files: list[str], watched: list[str], not_watched: list[str]) -> None:
    add_to_pipeline(bot, *components)
    for name in files:
        (bot / name).parent.mkdir(parents=True, exist_ok=True)
        (bot / name).write_text("# a component\n", encoding="utf-8")
    code, err = scaffold(capsys, str(bot))
    assert code == 0, err
    triggers = {CI: ("pull_request",), CD: ("push",), CV: ("pull_request",)}
    for name, events in triggers.items():
        for event in events:
            paths = watched_paths(bot, name, event)
            for path in watched:
                assert path in paths, f"{name} {event}"
            for path in not_watched:
                assert path not in paths, f"{name} {event}"


# --- Duckling: a service container where the configuration's url points -------------------

# (the extractor's url, the ports the service maps, the URL rasa is given instead, or None)
@pytest.mark.parametrize(("url", "ports", "override"), [
    ("http://localhost:8000", ["8000:8000"], None),
    ("http://127.0.0.1:9000", ["9000:8000"], None),
    (None, ["8000:8000"], None),  # rasa's own default url
    ("http://duckling:8000", ["8000:8000"], "http://localhost:8000"),  # a compose service name
    ("http://localhost", ["80:8000"], None),
])
def test_duckling_runs_as_a_service_where_the_url_points(
        bot: Path, capsys: pytest.CaptureFixture[str], url: str | None, ports: list[str],
        override: str | None) -> None:
    extractor: dict[str, Any] = {"name": "DucklingEntityExtractor", "dimensions": ["time"]}
    if url is not None:
        extractor["url"] = url
    add_to_pipeline(bot, extractor)
    code, err = scaffold(capsys, str(bot))
    assert code == 0, err
    for name, job_name in JOBS.items():
        job = load(bot, name)["jobs"][job_name]
        service = job["services"]["duckling"]
        assert service["image"] == DUCKLING_IMAGE
        assert service["ports"] == ports
        assert job["env"].get("RASA_DUCKLING_HTTP_URL") == override


def test_without_duckling_there_is_no_service(bot: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, err = scaffold(capsys, str(bot))
    assert code == 0, err
    assert all("services" not in load(bot, name)["jobs"][job] for name, job in JOBS.items())


@pytest.mark.parametrize("url", ["localhost:8000", "ftp://duckling:21", "http://:8000",
                                 "http://duckling:99999"])
def test_a_duckling_url_that_is_not_http_is_refused_naming_the_file(
        bot: Path, capsys: pytest.CaptureFixture[str], url: str) -> None:
    add_to_pipeline(bot, {"name": "DucklingEntityExtractor", "url": url})
    code, err = scaffold(capsys, str(bot))
    assert code == 2
    assert "DucklingEntityExtractor's url" in err and "config.yml" in err
    assert not (bot / ".github").exists()


# --- what rasa does not install by itself ---------------------------------------------------

# (components, requirements.txt, the note scaffold prints or None)
@pytest.mark.parametrize(("components", "requirements", "note"), [
    ([{"name": "SpacyNLP", "model": "en_core_web_md"}], "rasa==3.6.21\n",
     "SpacyNLP with the model en_core_web_md: add `rasa[spacy]==3.6.21` and the model"),
    ([{"name": "SpacyNLP", "model": "en_core_web_md"}],
     "rasa[spacy]==3.6.21\nhttps://github.com/explosion/spacy-models/releases/download/"
     "en_core_web_md-3.4.1/en_core_web_md-3.4.1-py3-none-any.whl\n", None),
    ([{"name": "LanguageModelFeaturizer", "model_name": "bert"}], "rasa==3.6.21\n",
     "LanguageModelFeaturizer: add `rasa[transformers]==3.6.21`"),
    ([{"name": "LanguageModelFeaturizer"}], None, "The project has no requirements.txt"),
], ids=["spacy-model-missing", "spacy-model-listed", "transformers", "no-requirements-file"])
def test_scaffold_says_what_the_configuration_needs_installed(
        bot: Path, capsys: pytest.CaptureFixture[str], components: list[dict[str, Any]],
        requirements: str | None, note: str | None) -> None:
    add_to_pipeline(bot, *components)
    if requirements is None:
        (bot / "requirements.txt").unlink()
    else:
        (bot / "requirements.txt").write_text(requirements, encoding="utf-8")
    code, err = scaffold(capsys, str(bot))
    assert code == 0, err
    if note is None:
        assert "Install:" not in err
    else:
        assert note in err
    # The place to put it: the requirements file the actions install next to rasa.
    inputs = next(step for step in load(bot, CI)["jobs"]["assistant"]["steps"]
                  if step.get("id") == "pipeline")["with"]
    text = (bot / CI).read_text(encoding="utf-8")
    assert inputs.get("rasa_requirements") == "requirements.txt" or \
        '# rasa_requirements: "requirements.txt"' in text


# --- modes that change every workflow --------------------------------------------------------


def test_without_paths_filters_every_workflow_runs_on_every_change(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = scaffold(capsys, str(bot), "--no-paths-filter")
    assert code == 0, err
    for name in JOBS:
        triggers = load(bot, name)[True]
        for event in ("push", "pull_request"):
            if event in triggers:
                assert "paths" not in (triggers[event] or {}), f"{name} {event}"
        assert "--no-paths-filter" not in (bot / name).read_text(encoding="utf-8")


def test_with_paths_filters_the_workflow_says_how_they_meet_required_checks(
        bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ci_toolkit.scaffold.options import PATHS_FILTER_HELP

    assert "required status check" in PATHS_FILTER_HELP and "blocks merging" in PATHS_FILTER_HELP
    code, err = scaffold(capsys, str(bot))
    assert code == 0, err
    assert "--no-paths-filter" in (bot / CI).read_text(encoding="utf-8")


# (options, the ref every own action is used at)
@pytest.mark.parametrize(("args", "repo", "ref"), [
    ([], DEFAULT_ACTION_REPO, f"{DEFAULT_ACTION_REF} # {DEFAULT_ACTION_TAG}"),
    (["--action-repo", "me/assistant-ci", "--action-ref", "a" * 40, "--action-tag", "v1.2.0"],
     "me/assistant-ci", f"{'a' * 40} # v1.2.0"),
    (["--action-ref", "v1"], DEFAULT_ACTION_REPO, "v1"),  # a tag: no comment to add
])
def test_every_job_uses_this_repositorys_actions_at_the_chosen_ref(
        bot: Path, capsys: pytest.CaptureFixture[str], args: list[str], repo: str,
        ref: str) -> None:
    code, err = scaffold(capsys, str(bot), "--deploy-target", "rasa-server", "--chart-preset",
                         "assistant-ci", *args)
    assert code == 0, err
    text = "".join((bot / name).read_text(encoding="utf-8") for name in JOBS)
    for suffix in ("", "/action-server", "/deploy"):
        assert f"uses: {repo}{suffix}@{ref}\n" in text
    assert "pip install" not in text


def test_the_default_action_repository_and_ref_are_written_once() -> None:
    package = Path(__file__).resolve().parents[3] / "ci_toolkit"
    holders = [path.name for path in package.rglob("*.py")
               if f'"{DEFAULT_ACTION_REPO}"' in path.read_text(encoding="utf-8")]
    assert holders == ["options.py"]
    # The ref is this ci-toolkit's own commit (a checkout's HEAD here) and the tag its version.
    assert DEFAULT_ACTION_REF == provenance.source_commit()
    assert DEFAULT_ACTION_TAG == f"v{ci_toolkit.__version__}"


def test_a_release_wheel_names_the_commit_it_was_built_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = tmp_path / "_source_commit"
    monkeypatch.setattr(provenance, "RECORDED", recorded)
    recorded.write_text("0123456789abcdef0123456789abcdef01234567\n")
    assert provenance.source_commit() == "0123456789abcdef0123456789abcdef01234567"
    recorded.write_text("not a commit\n")
    assert provenance.source_commit() is None


# --- cross-validation is compared: the baseline run has it, and saves its cache -------------


@pytest.mark.parametrize("args", [[], ["--no-pr-cross-validation"]])
def test_the_main_branch_run_cross_validates_when_pull_requests_do(
        bot: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, err = scaffold(capsys, str(bot), *args)
    assert code == 0, err

    def pipeline(name: str) -> dict[str, Any]:
        return next(step for step in load(bot, name)["jobs"][JOBS[name]]["steps"]
                    if step.get("id") == "pipeline")["with"]

    ci, cd = pipeline(CI), pipeline(CD)
    assert ci["cross_validation"] == cd["cross_validation"] == ("false" if args else "true")
    assert ci.get("folds") == cd.get("folds")
    # The main branch restores nothing (its model is deployed) and saves the stage cache,
    # cross-validation folds included, under the key a pull request restores.
    assert cd["cache"] == "save" and "cache" not in ci
    assert ci["max_drop"] and ci["fail_on_failed_stories"] == "true"  # gates on, visible
