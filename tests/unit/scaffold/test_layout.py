"""From a request to checked options: the project's files, its repository, its rasa."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ci_toolkit.errors import UsageError
from ci_toolkit.scaffold.layout import repository_root, resolve
from ci_toolkit.scaffold.options import (
    DEFAULT_ACTION_REF,
    DEFAULT_ACTION_REPO,
    ScaffoldRequest,
)


def test_options_not_given_take_the_defaults_and_the_project_fills_its_layout(bot: Path) -> None:
    resolved = resolve(ScaffoldRequest(directory=bot))
    options = resolved.options
    assert resolved.repo_root == bot.resolve()  # no git repository above: the project itself
    assert options.project_dir == "."
    assert (options.config, options.domain, options.data) == ("config.yml", "domain.yml",
                                                              ("data",))
    assert options.smoke_tests == "tests/smoke.yml" and options.has_actions
    assert options.assistant_name == bot.name
    assert (options.action_repo, options.action_ref) == (DEFAULT_ACTION_REPO, DEFAULT_ACTION_REF)
    assert options.rasa_requirements == "requirements.txt" and options.rasa_from_requirements
    assert options.paths_filter
    assert options.schedule == "0 4 * * 1" and options.chart == "none"
    assert resolved.note is not None and "requirements pin it" in resolved.note


def test_what_the_request_says_reaches_the_options(pristine: Path, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    bot = Path(shutil.copytree(pristine, tmp_path / "bots" / "coffee"))
    resolved = resolve(ScaffoldRequest(
        directory=bot, assistant_name="Coffee", rasa_version="3.6.21-full", no_schedule=True,
        chart="rasa", chart_ref="rasa/rasa", namespace="bots", folds=7,
        action_repo="me/fork", action_ref="v2", no_paths_filter=True))
    options = resolved.options
    assert resolved.repo_root == tmp_path.resolve()
    assert options.project_dir == "bots/coffee"
    assert options.assistant_name == "Coffee"
    assert options.rasa_version == "3.6.21" and "Docker image tag" in str(resolved.note)
    assert not options.rasa_from_requirements  # given: the workflows name it
    assert options.schedule is None
    assert (options.chart, options.chart_ref, options.namespace, options.folds) == (
        "rasa", "rasa/rasa", "bots", 7)
    assert (options.action_repo, options.action_ref, options.paths_filter) == (
        "me/fork", "v2", False)


def test_a_bad_value_in_the_request_is_a_usage_error_naming_the_option(bot: Path) -> None:
    with pytest.raises(UsageError, match="--folds 1 is not valid"):
        resolve(ScaffoldRequest(directory=bot, folds=1))


def test_the_repository_root_is_the_nearest_directory_with_git(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert repository_root(tmp_path / "a" / "b") == tmp_path.resolve()
