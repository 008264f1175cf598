"""Names, tags and labels of the action-server image.

An image is tagged with the commit it was built from, by default the full SHA: a tag that
names a commit never moves, so a deploy can say exactly which code runs. Extra tags
(``latest``, the branch) are optional aliases on top.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ci_toolkit.errors import UsageError
from ci_toolkit.github_context import GitHubContext, git

# RasaHQ/action-server-gha's defaults, so that its users get the same names.
DEFAULT_REGISTRY = "docker.io"
DEFAULT_IMAGE_NAME = "action_server"
SHORT_SHA_LENGTH = 7  # as git's --short and docker/metadata-action's type=sha

# https://github.com/distribution/reference/blob/main/regexp.go
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_REGISTRY_HOST = re.compile(r"^[A-Za-z0-9.-]+(?::[0-9]+)?$")
_NOT_TAG_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]+")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
BRANCH_PLACEHOLDER = "{branch}"


@dataclass(frozen=True)
class ImageNames:
    """Where the image goes: ``repository`` includes the registry, tags are bare."""

    repository: str
    tag: str
    extra_tags: tuple[str, ...] = ()

    @property
    def full_name(self) -> str:
        return f"{self.repository}:{self.tag}"

    @property
    def tags(self) -> tuple[str, ...]:
        return (self.tag, *self.extra_tags)

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(f"{self.repository}:{tag}" for tag in self.tags)

    @property
    def registry(self) -> str:
        return self.repository.split("/", 1)[0]


def image_repository(registry: str, name: str) -> str:
    """``registry/name``, checked against the rules of docker references.

    A name that already starts with the registry is not prefixed twice.
    """
    registry = registry.strip().rstrip("/")
    name = name.strip().strip("/")
    for prefix in ("https://", "http://"):
        if registry.startswith(prefix):
            raise UsageError(
                f"The registry '{registry}' must be a host name (and port), without "
                f"'{prefix}'. Example: ghcr.io or 127.0.0.1:5000."
            )
    if not registry or not _REGISTRY_HOST.match(registry):
        raise UsageError(
            f"'{registry}' is not a registry host. Give a host name with an optional port, "
            "e.g. docker.io, ghcr.io or 127.0.0.1:5000 (--registry / CI_TOOLKIT_DOCKER_REGISTRY)."
        )
    if name.startswith(registry + "/"):
        name = name[len(registry) + 1:]
    components = name.split("/") if name else [""]
    for component in components:
        if not _PATH_COMPONENT.match(component):
            raise UsageError(
                f"'{name}' is not a valid image name: each part between slashes must be "
                "lower-case letters and digits, separated by '.', '_', '__' or '-'. "
                "Example: my-org/coffeebot-actions (--image-name / CI_TOOLKIT_DOCKER_IMAGE_NAME)."
            )
    return f"{registry}/{name}"


def check_tag(tag: str, *, what: str) -> str:
    if not _TAG.match(tag):
        raise UsageError(
            f"{what} '{tag}' is not a valid image tag: use up to 128 letters, digits, '_', "
            "'.' and '-', not starting with '.' or '-'."
        )
    return tag


def tag_from_text(text: str) -> str:
    """Turn a branch name like ``feature/new-form`` into a tag: ``feature-new-form``."""
    tag = _NOT_TAG_CHARACTERS.sub("-", text).lstrip(".-")[:128].rstrip(".-")
    if not tag:
        raise UsageError(f"'{text}' cannot be turned into an image tag.")
    return tag


def commit_sha(context: Path, environ: Mapping[str, str]) -> str:
    """The commit being built: ``GITHUB_SHA`` in Actions, else ``git rev-parse HEAD``."""
    sha = GitHubContext.from_environ(environ).commit_sha(context) or ""
    if not _FULL_SHA.match(sha):
        raise UsageError(
            f"Could not find the commit SHA to tag the image with: GITHUB_SHA is not set and "
            f"{context} is not inside a git repository with a commit. Run from a git checkout, "
            "or give the tag with --tag (CI_TOOLKIT_DOCKER_IMAGE_TAG)."
        )
    return sha


def current_branch(context: Path, environ: Mapping[str, str]) -> str:
    """The branch being built: the PR's head branch, the pushed branch, or git's."""
    branch = GitHubContext.from_environ(environ).branch(context)
    if not branch:
        raise UsageError(
            f"The extra tag '{BRANCH_PLACEHOLDER}' needs a branch, but {context} is not on one "
            "(detached HEAD or no git repository) and GITHUB_REF_NAME is not set. "
            "Give the tag literally instead."
        )
    return branch


def resolve_names(
    *,
    registry: str,
    image_name: str,
    tag: str | None,
    short_sha: bool,
    extra_tags: Sequence[str],
    context: Path,
    environ: Mapping[str, str],
) -> ImageNames:
    """Compute the repository and all tags; the commit SHA is the tag unless one is given."""
    repository = image_repository(registry, image_name)
    if tag:
        main_tag = check_tag(tag.strip(), what="The tag")
    else:
        sha = commit_sha(context, environ)
        main_tag = sha[:SHORT_SHA_LENGTH] if short_sha else sha
    extras: list[str] = []
    for extra in extra_tags:
        extra = extra.strip()
        if not extra:
            continue
        if extra == BRANCH_PLACEHOLDER:
            extra = tag_from_text(current_branch(context, environ))
        check_tag(extra, what="The extra tag")
        if extra != main_tag and extra not in extras:
            extras.append(extra)
    return ImageNames(repository=repository, tag=main_tag, extra_tags=tuple(extras))


def split_list(values: Sequence[str]) -> tuple[str, ...]:
    """Flatten option values that may each hold several items separated by commas or spaces."""
    items: list[str] = []
    for value in values:
        items.extend(part for part in re.split(r"[,\s]+", value) if part)
    return tuple(items)


def source_url(context: Path, environ: Mapping[str, str]) -> str:
    """The repository URL for the OCI source label: Actions' repository, else git's origin."""
    repository_url = GitHubContext.from_environ(environ).repository_url
    if repository_url:
        return repository_url
    origin = git(context, "remote", "get-url", "origin") or ""
    scp_like = re.match(r"^[\w.-]+@([\w.-]+):(.+?)(?:\.git)?$", origin)
    if scp_like:
        return f"https://{scp_like.group(1)}/{scp_like.group(2)}"
    # Never put credentials embedded in an https remote into a label.
    origin = re.sub(r"^(https?://)[^/@]*@", r"\1", origin)
    return origin.removesuffix(".git")


def created_timestamp(environ: Mapping[str, str]) -> str:
    """RFC 3339 time for the OCI created label; honours SOURCE_DATE_EPOCH for reproducibility."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    seconds = int(epoch) if epoch.isdigit() else int(time.time())
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
