"""Image names, tags and OCI label values: computed without an engine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ci_toolkit.errors import UsageError
from ci_toolkit.image.names import (
    check_tag,
    commit_sha,
    created_timestamp,
    image_repository,
    resolve_names,
    source_url,
    split_list,
    tag_from_text,
)

SHA = "3f5e2a9c1b7d4e6f8a0b2c4d6e8f0a1b3c5d7e9f"
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "CI", "GIT_AUTHOR_EMAIL": "ci@example.com",
           "GIT_COMMITTER_NAME": "CI", "GIT_COMMITTER_EMAIL": "ci@example.com"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=GIT_ENV).stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "bot"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "feature/Smarter-Forms")
    (repo / "domain.yml").write_text("version: '3.1'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def names(context: Path, environ: dict[str, str], **overrides: object):  # type: ignore[no-untyped-def]
    settings: dict[str, object] = {"registry": "ghcr.io", "image_name": "octo-org/actions",
                                   "tag": None, "short_sha": False, "extra_tags": ()}
    settings.update(overrides)
    return resolve_names(context=context, environ=environ, **settings)  # type: ignore[arg-type]


def test_the_full_commit_sha_from_github_sha_is_the_default_tag(tmp_path: Path) -> None:
    resolved = names(tmp_path, {"GITHUB_SHA": SHA})
    assert resolved.repository == "ghcr.io/octo-org/actions"
    assert resolved.tag == SHA
    assert resolved.full_name == f"ghcr.io/octo-org/actions:{SHA}"
    assert resolved.registry == "ghcr.io"


def test_without_github_sha_the_commit_comes_from_git(checkout: Path) -> None:
    head = git(checkout, "rev-parse", "HEAD")
    assert commit_sha(checkout, {}) == head
    assert names(checkout, {}, short_sha=True).tag == head[:7]


def test_no_commit_anywhere_is_a_usage_error_that_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"GITHUB_SHA is not set .* give the tag with --tag"):
        names(tmp_path, {})
    # An explicit tag needs no commit at all.
    assert names(tmp_path, {}, tag="v1.2.0").tag == "v1.2.0"


def test_extra_tags_are_deduplicated_and_branch_is_made_tag_safe(checkout: Path) -> None:
    resolved = names(checkout, {"GITHUB_SHA": SHA},
                     extra_tags=split_list(["latest,{branch}", "latest", SHA]))
    assert resolved.extra_tags == ("latest", "feature-Smarter-Forms")
    assert resolved.references == (
        f"ghcr.io/octo-org/actions:{SHA}", "ghcr.io/octo-org/actions:latest",
        "ghcr.io/octo-org/actions:feature-Smarter-Forms")


def test_branch_of_a_pull_request_is_its_head_branch(tmp_path: Path) -> None:
    environ = {"GITHUB_SHA": SHA, "GITHUB_HEAD_REF": "fix/order-form",
               "GITHUB_REF_NAME": "17/merge"}
    assert names(tmp_path, environ, extra_tags=["{branch}"]).extra_tags == ("fix-order-form",)


def test_branch_placeholder_on_a_detached_head_is_a_usage_error(checkout: Path) -> None:
    git(checkout, "checkout", "-q", "--detach")
    with pytest.raises(UsageError, match="needs a branch"):
        names(checkout, {"GITHUB_SHA": SHA}, extra_tags=["{branch}"])


# The registry is called "host" here: "registry" is the name of a docker fixture.
@pytest.mark.parametrize(("host", "name", "expected"), [
    ("docker.io", "action_server", "docker.io/action_server"),
    ("127.0.0.1:5000", "coffeebot/actions", "127.0.0.1:5000/coffeebot/actions"),
    ("ghcr.io/", "ghcr.io/octo-org/actions", "ghcr.io/octo-org/actions"),
])
def test_repository_joins_registry_and_name_once(host: str, name: str, expected: str) -> None:
    assert image_repository(host, name) == expected


@pytest.mark.parametrize(("host", "name", "message"), [
    ("https://ghcr.io", "actions", "without 'https://'"),
    ("ghcr.io", "Octo-Org/Actions", "lower-case"),
    ("ghcr.io", "octo--org//actions", "not a valid image name"),
    ("my registry", "actions", "is not a registry host"),
])
def test_invalid_registry_or_name_is_a_usage_error(host: str, name: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        image_repository(host, name)


@pytest.mark.parametrize("tag", ["-latest", ".hidden", "a" * 129, "feature/x", ""])
def test_invalid_tags_are_rejected(tag: str) -> None:
    with pytest.raises(UsageError, match="not a valid image tag"):
        check_tag(tag, what="The tag")


def test_tag_from_text_replaces_what_docker_does_not_allow() -> None:
    assert tag_from_text("feature/new form!") == "feature-new-form"
    assert tag_from_text("..release/3.6") == "release-3.6"
    with pytest.raises(UsageError):
        tag_from_text("///")


def test_source_url_from_actions_then_from_the_origin_remote(checkout: Path) -> None:
    assert source_url(checkout, {"GITHUB_SERVER_URL": "https://github.com",
                                 "GITHUB_REPOSITORY": "octo-org/bot"}) == \
        "https://github.com/octo-org/bot"
    assert source_url(checkout, {}) == ""
    git(checkout, "remote", "add", "origin", "git@github.com:octo-org/bot.git")
    assert source_url(checkout, {}) == "https://github.com/octo-org/bot"
    # Credentials in an https remote never reach a label.
    git(checkout, "remote", "set-url", "origin", "https://x-access-token:ghs_secret@github.com/o/b.git")
    assert source_url(checkout, {}) == "https://github.com/o/b"


def test_created_honours_source_date_epoch() -> None:
    assert created_timestamp({"SOURCE_DATE_EPOCH": "1700000000"}) == "2023-11-14T22:13:20Z"
    assert created_timestamp({}).endswith("Z")


def test_split_list_accepts_commas_spaces_and_newlines() -> None:
    assert split_list(["latest, stable\nv1", "", "x"]) == ("latest", "stable", "v1", "x")
