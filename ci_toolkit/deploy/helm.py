"""``helm upgrade --install`` with the image from the build step, and ``helm rollback``.

This drives the ``helm`` CLI (preinstalled on GitHub's runners) rather than a library, so
that kube contexts, plugins and credentials behave exactly as they do for a person.

The image coordinates go to value keys that depend on the chart:

=============  =================================  ==============================
preset         image name key                     image tag key
=============  =================================  ==============================
rasa-x         app.name                           app.tag
rasa           image.repository                   image.tag
assistant-ci   actionServer.image.repository      actionServer.image.tag
=============  =================================  ==============================

``rasa`` is for RasaHQ's ``rasa-action-server`` chart (``image.repository`` takes the full
name including the registry, as the image step's ``docker_image_name`` output has it); for
its ``rasa`` chart with the action server as a subchart, set the keys to
``rasa-action-server.image.repository`` / ``rasa-action-server.image.tag``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ci_toolkit.errors import ToolkitError, UsageError
from ci_toolkit.proc import Completed, Console, find_executable, run

IMAGE_KEY_PRESETS: dict[str, tuple[str, str]] = {
    "rasa-x": ("app.name", "app.tag"),
    "rasa": ("image.repository", "image.tag"),
    "assistant-ci": ("actionServer.image.repository", "actionServer.image.tag"),
}

HELM_HINT = ("Install helm (https://helm.sh/docs/intro/install/; GitHub's hosted runners have it) "
             "or pass its path with --helm.")

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_SET_PAIR = re.compile(r"^[A-Za-z0-9_.\-\[\]\\/]+=")
# Docker's grammar, loosely: helm's --set-string splits at commas, so none may slip in.
_IMAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def duration_seconds(text: str) -> float:
    """Seconds in a Go duration as helm takes it (``5m``, ``1m30s``, ``300s``, ``1h``)."""
    text = text.strip()
    if not text or _DURATION_PART.sub("", text) != "":
        raise UsageError(f"'{text}' is not a duration helm understands. Use forms like 300s, 5m "
                         "or 1m30s for --helm-timeout.")
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(number) * scale[unit] for number, unit in _DURATION_PART.findall(text))


@dataclass(frozen=True)
class ImageKeys:
    name_key: str
    tag_key: str

    @classmethod
    def resolve(cls, preset: str, name_key: str | None = None,
                tag_key: str | None = None) -> ImageKeys:
        if preset not in IMAGE_KEY_PRESETS:
            raise UsageError(f"Unknown image key preset '{preset}'. Use one of "
                             f"{', '.join(IMAGE_KEY_PRESETS)}.")
        default_name, default_tag = IMAGE_KEY_PRESETS[preset]
        return cls(name_key or default_name, tag_key or default_tag)


@dataclass(frozen=True)
class HelmTarget:
    """Which release, where: the flags every helm call about it shares."""

    release: str
    namespace: str | None = None
    kube_context: str | None = None

    def scope_args(self) -> list[str]:
        args: list[str] = []
        if self.namespace:
            args += ["--namespace", self.namespace]
        if self.kube_context:
            args += ["--kube-context", self.kube_context]
        return args


@dataclass(frozen=True)
class UpgradeSpec:
    target: HelmTarget
    chart: str
    chart_version: str | None = None
    image_keys: ImageKeys = field(default_factory=lambda: ImageKeys.resolve("assistant-ci"))
    image_name: str | None = None
    image_tag: str | None = None
    values_files: tuple[Path, ...] = ()
    set_values: tuple[str, ...] = ()
    reuse_values: bool = False
    wait: bool = True
    timeout: str = "10m"
    atomic: bool = False
    create_namespace: bool = False

    def check(self) -> None:
        duration_seconds(self.timeout)
        for pair in self.set_values:
            if not _SET_PAIR.match(pair):
                raise UsageError(f"--helm-set '{pair}' is not KEY=VALUE (for example "
                                 "rasa.replicaCount=2).")
        for path in self.values_files:
            if not path.is_file():
                raise UsageError(f"The values file '{path}' does not exist. Fix --helm-values.")
        for option, value, pattern in (("--image-name", self.image_name, _IMAGE_NAME),
                                       ("--image-tag", self.image_tag, _IMAGE_TAG)):
            if value and not pattern.match(value):
                raise UsageError(f"{option} {value!r} is not a Docker image {option[8:]}: use "
                                 "the image step's output (letters, digits, '.', '_', '-').")
        if bool(self.image_name) != bool(self.image_tag) and not self.reuse_values:
            # With --reuse-values the other half keeps its deployed value, so one is enough.
            raise UsageError("Give both --image-name and --image-tag (the image step's "
                             "docker_image_name and docker_image_tag outputs), or neither.")


def upgrade_args(spec: UpgradeSpec) -> list[str]:
    """The arguments after ``helm`` for ``upgrade --install``."""
    args = ["upgrade", "--install", spec.target.release, spec.chart, *spec.target.scope_args()]
    if spec.chart_version:
        args += ["--version", spec.chart_version]
    if spec.create_namespace:
        args.append("--create-namespace")
    if spec.reuse_values:
        args.append("--reuse-values")
    for path in spec.values_files:
        args += ["--values", str(path)]
    # Later --set flags win over earlier ones and over values files, so the image from the
    # build step comes last: a stale image key in a values file cannot shadow it.
    for pair in spec.set_values:
        args += ["--set", pair]
    if spec.image_name:
        args += ["--set-string", f"{spec.image_keys.name_key}={spec.image_name}"]
    if spec.image_tag:
        # --set-string: a tag like 1234 or 1e10 must stay a string, not become a number.
        args += ["--set-string", f"{spec.image_keys.tag_key}={spec.image_tag}"]
    if spec.atomic:
        args.append("--atomic")
    if spec.wait or spec.atomic:
        args.append("--wait")
    args += ["--timeout", spec.timeout]
    return args


def rollback_args(target: HelmTarget, revision: int, *, wait: bool, timeout: str) -> list[str]:
    args = ["rollback", target.release, str(revision), *target.scope_args()]
    if wait:
        args.append("--wait")
    return [*args, "--timeout", timeout]


class RevisionUnknown(ToolkitError):
    """``helm status`` gave no revision: the command before it may still have changed the
    release."""


@dataclass(frozen=True)
class Revision:
    number: int
    status: str


class HelmCli:
    """Runs helm for one release. ``console`` shows upgrade/rollback output live; queries
    (history, status) run quietly because their JSON is for us, not for the reader."""

    def __init__(self, executable: str, console: Console, *, log_dir: Path | None = None) -> None:
        self.executable = find_executable(executable, hint=HELM_HINT)
        self.console = console
        self.quiet = Console(quiet=True)
        self.log_dir = log_dir

    def _run(self, args: Sequence[str], *, label: str, quiet: bool = False,
             timeout_s: float | None = 600.0) -> Completed:
        log_file = self.log_dir / f"{label}.log" if self.log_dir else None
        return run([self.executable, *args], label=label,
                   console=self.quiet if quiet else self.console,
                   log_file=log_file, timeout_s=timeout_s)

    def history(self, target: HelmTarget) -> list[Revision] | None:
        """The release's revisions, oldest first; None when the release does not exist."""
        done = self._run(["history", target.release, *target.scope_args(), "--output", "json"],
                         label="helm-history", quiet=True)
        if done.returncode != 0:
            if "not found" in done.output.lower():
                return None
            raise ToolkitError(
                f"`helm history {target.release}` failed (exit {done.returncode}): "
                f"{_last_line(done)}. Check the kube context and namespace, and that this job "
                "is logged in to the cluster."
            )
        try:
            entries = json.loads(done.stdout or "[]")
            return sorted((Revision(int(e["revision"]), str(e.get("status", "")))
                           for e in entries), key=lambda r: r.number)
        except (ValueError, KeyError, TypeError):
            raise ToolkitError(f"`helm history` printed something that is not its JSON list: "
                               f"{done.stdout[:200]!r}") from None

    def deployed_revision(self, target: HelmTarget) -> int | None:
        """The revision that runs now (the newest one with status deployed), if any."""
        deployed = [r.number for r in self.history(target) or [] if r.status == "deployed"]
        return deployed[-1] if deployed else None

    def status_revision(self, target: HelmTarget) -> int:
        done = self._run(["status", target.release, *target.scope_args(), "--output", "json"],
                         label="helm-status", quiet=True)
        try:
            return int(json.loads(done.stdout)["version"])
        except (ValueError, KeyError, TypeError):
            raise RevisionUnknown(
                f"`helm status {target.release}` gave no revision (exit {done.returncode}): "
                f"{_last_line(done)}."
            ) from None

    def upgrade(self, spec: UpgradeSpec) -> int:
        """Run ``helm upgrade --install``; return the new revision. ``RevisionUnknown``
        means the upgrade ran but its revision could not be read."""
        spec.check()
        done = self._run(upgrade_args(spec), label="helm-upgrade",
                         timeout_s=duration_seconds(spec.timeout) + 120)
        if done.returncode != 0:
            hint = (" helm rolled the release back (--atomic)." if spec.atomic else
                    " The release may be in a failed state; `helm history` shows it.")
            raise ToolkitError(f"`helm upgrade --install {spec.target.release}` failed (exit "
                               f"{done.returncode}): {_last_line(done)}.{hint}")
        return self.status_revision(spec.target)

    def rollback(self, target: HelmTarget, revision: int, *, wait: bool = True,
                 timeout: str = "10m") -> int | None:
        """Roll back to ``revision``; return the revision number the rollback created (None
        when the rollback succeeded but ``helm status`` could not say which)."""
        done = self._run(rollback_args(target, revision, wait=wait, timeout=timeout),
                         label="helm-rollback", timeout_s=duration_seconds(timeout) + 120)
        if done.returncode != 0:
            raise ToolkitError(f"`helm rollback {target.release} {revision}` failed (exit "
                               f"{done.returncode}): {_last_line(done)}. Roll back by hand.")
        try:
            return self.status_revision(target)
        except RevisionUnknown:
            return None


def _last_line(done: Completed) -> str:
    lines = [line for line in done.output.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"
