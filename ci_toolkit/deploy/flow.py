"""The deployment as a whole: model upload, helm upgrade, model switch, smoke test, rollback.

Order matters (Rasa's CI/CD guide): the new action server is rolled out *before* the new
model becomes active, because a model may call actions that only the new server has.

1. model target ``prepare``: Rasa X health and upload (harmless: nothing uses it yet);
   Rasa server: remember which model runs now.
2. ``helm upgrade --install`` (the action-server image from the image step), remembering
   the revision that ran before.
3. model target ``activate``: tag the model in Rasa X (Rasa pulls it), or ``PUT /model``.
4. smoke test through the REST channel.
5. on a failure in 3 or 4: undo in reverse order (model first, then helm) and fail.

Every way out after the upgrade says what this run changed and could not undo: a step's
``rollback()`` returns what it did, None when it changed nothing, or raises a ToolkitError
that says what stays changed. A call that got no answer may still have done its work, so it
counts as a change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ci_toolkit.deploy.conversations import SmokeReport, SmokeTester, run_smoke_test
from ci_toolkit.deploy.helm import HelmCli, RevisionUnknown, UpgradeSpec
from ci_toolkit.deploy.http import NoAnswer
from ci_toolkit.deploy.rasa_server import (
    ModelSource,
    RasaServerClient,
    ServerStatus,
    rollback_source,
)
from ci_toolkit.deploy.rasax import RasaXClient
from ci_toolkit.deploy.smoke_file import Conversation
from ci_toolkit.errors import ToolkitError

Log = Callable[[str], None]


class ModelTarget(Protocol):
    what: str
    changed: bool  # True once the live model was switched (there is something to undo)

    def prepare(self) -> None: ...
    def activate(self) -> None: ...
    def rollback(self) -> str | None: ...
    def outputs(self) -> dict[str, str]: ...


@dataclass
class RasaXTarget:
    what = "the Rasa X model tag"
    client: RasaXClient
    model_path: Path
    tag: str = "production"
    replace: bool = False
    model_name: str = ""
    upload_outcome: str = ""
    previous_model: str | None = None
    changed: bool = False

    def prepare(self) -> None:
        self.client.check_healthy()
        result = self.client.upload_model(self.model_path, replace=self.replace)
        self.model_name, self.upload_outcome = result.model_name, result.outcome

    def activate(self) -> None:
        self.previous_model = self.client.model_tagged(self.tag)
        try:
            self.client.tag_model(self.model_name, self.tag)
        except NoAnswer:
            self.changed = True  # the tag may have moved although no answer came
            raise
        self.changed = True
        self.client.check_healthy()

    def rollback(self) -> str | None:
        if not self.changed or self.previous_model == self.model_name:
            return None
        if not self.previous_model:
            raise ToolkitError(f"the Rasa X tag '{self.tag}' stays on model '{self.model_name}': "
                               "no model carried it before this run")
        self.client.tag_model(self.previous_model, self.tag)
        return f"re-tagged model '{self.previous_model}' as '{self.tag}' in Rasa X"

    def outputs(self) -> dict[str, str]:
        return {"model_name": self.model_name, "model_upload": self.upload_outcome,
                "previous_model": self.previous_model or ""}


@dataclass
class RasaServerTarget:
    what = "the Rasa server's model"
    client: RasaServerClient
    source: ModelSource
    before: ServerStatus | None = None
    after: ServerStatus | None = None
    changed: bool = False

    def prepare(self) -> None:
        self.before = self.client.status()

    def activate(self) -> None:
        assert self.before is not None, "prepare() runs first"
        try:
            self.client.replace_model(self.source)
        except NoAnswer:
            self.changed = True  # the server may load the model although no answer came
            raise
        self.changed = True
        self.after = self.client.wait_for_model(self.source, self.before)
        self.client.http.log(f"Rasa server now runs model {self.after.model_file}.")

    def rollback(self) -> str | None:
        if not self.changed or self.before is None:
            return None
        previous = rollback_source(self.before, self.source)
        if previous is None:
            raise ToolkitError(f"the Rasa server keeps the new model: {self._why_not_back()}")
        self.client.replace_model(previous)
        self.client.wait_for_model(previous, self.after or self.before)
        return f"loaded the previous model {previous.model_file} on the Rasa server"

    def _why_not_back(self) -> str:
        assert self.before is not None
        if not self.before.model_file:
            return "it ran no model before this run"
        if not self.source.model_file:
            return (f"it ran {self.before.model_file} before, and with --model-server-url the "
                    "place of that file is unknown")
        return (f"the model before had the same file name ({self.before.model_file}), so it "
                "cannot be loaded again")

    def outputs(self) -> dict[str, str]:
        return {"model_name": (self.after.model_file if self.after else "") or "",
                "model_upload": "put",
                "previous_model": (self.before.model_file if self.before else "") or ""}


@dataclass
class HelmStep:
    what = "the helm release"
    cli: HelmCli
    spec: UpgradeSpec
    previous_revision: int | None = None
    revision: int | None = None
    upgraded: bool = False  # the release changed (even when its new revision is unknown)

    @property
    def changed(self) -> bool:
        return self.upgraded

    def upgrade(self) -> None:
        self.previous_revision = self.cli.deployed_revision(self.spec.target)
        try:
            self.revision = self.cli.upgrade(self.spec)
        except RevisionUnknown as error:
            self.upgraded = True
            raise ToolkitError(f"`helm upgrade --install {self.spec.target.release}` ran, but "
                               f"its new revision is unknown: {error.message}") from None
        self.upgraded = True

    def rollback(self) -> str | None:
        release = self.spec.target.release
        if not self.upgraded:
            return None
        if self.previous_revision is None:
            raise ToolkitError(f"helm release '{release}' stays installed: this run installed "
                               "it, so there is no earlier revision (`helm uninstall "
                               f"{release}` removes it)")
        created = self.cli.rollback(self.spec.target, self.previous_revision,
                                    wait=self.spec.wait, timeout=self.spec.timeout)
        now = f"now revision {created}" if created is not None else "its new revision is unknown"
        return f"rolled helm release '{release}' back to revision {self.previous_revision} ({now})"

    def outputs(self) -> dict[str, str]:
        return helm_outputs(self.revision, self.previous_revision)


def helm_outputs(revision: int | None = None, previous: int | None = None) -> dict[str, str]:
    """The helm outputs; empty values when there was no helm step or it did not get far."""
    return {"helm_revision": "" if revision is None else str(revision),
            "helm_previous_revision": "" if previous is None else str(previous)}


@dataclass(frozen=True)
class SmokePlan:
    tester: SmokeTester
    conversations: list[Conversation]
    source: str
    timeout_s: float
    interval_s: float = 5.0


@dataclass
class DeployOutcome:
    smoke: SmokeReport | None = None
    rollback_actions: list[str] = field(default_factory=list)
    rollback_problems: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def smoke_result(self) -> str:
        if self.smoke is None:
            return "skipped"
        return "passed" if self.smoke.passed else "failed"


def run_deploy(
    *,
    model: ModelTarget | None,
    helm: HelmStep | None,
    smoke: SmokePlan | None,
    rollback: bool = True,
    log: Log,
    outcome: DeployOutcome | None = None,
) -> DeployOutcome:
    """Deploy; on a smoke failure roll back and return the outcome (the caller fails the
    step). A failure before the smoke test rolls back what this run changed and raises, with
    what was and was not undone; ``outcome`` (when the caller passes one) holds the outputs
    known so far either way."""
    outcome = outcome if outcome is not None else DeployOutcome()
    # Undo order: the model first, then the release it may need.
    steps: list[_Undoable] = [step for step in (model, helm) if step is not None]
    try:
        _change(model, helm, smoke, outcome, log)
    except ToolkitError as error:
        undone = _undo_after_failure(steps, outcome, rollback, log)
        raise type(error)(f"{error.message} {undone}".strip(), file=error.file,
                          line=error.line) from None
    except BaseException:
        # An interrupt (or a bug): no time to roll back, but say what stays changed.
        changed = [step.what for step in steps if step.changed]
        if changed:
            log(f"Stopped before the deploy finished. Not rolled back: {', '.join(changed)} "
                "changed by this run.")
        raise
    finally:
        _fill_outputs(outcome, model, helm)
    if outcome.smoke is not None and not outcome.smoke.passed and rollback:
        _roll_back(steps, outcome, log)
        _fill_outputs(outcome, model, helm)
    return outcome


def _change(model: ModelTarget | None, helm: HelmStep | None, smoke: SmokePlan | None,
            outcome: DeployOutcome, log: Log) -> None:
    """The deployment's steps in order; the smoke test's report goes into ``outcome``."""
    if model is not None:
        model.prepare()
    if helm is not None:
        helm.upgrade()
        log(f"Helm release '{helm.spec.target.release}' is at revision {helm.revision} "
            f"(was {helm.previous_revision or 'not installed'}).")
    if model is not None:
        model.activate()
    if smoke is not None:
        outcome.smoke = run_smoke_test(smoke.tester, smoke.conversations, source=smoke.source,
                                       timeout_s=smoke.timeout_s, interval_s=smoke.interval_s,
                                       log=log)


class _Undoable(Protocol):
    what: str

    @property
    def changed(self) -> bool: ...

    def rollback(self) -> str | None: ...


def _undo_after_failure(steps: list[_Undoable], outcome: DeployOutcome, rollback: bool,
                        log: Log) -> str:
    """Roll back the steps that changed something (the model switch may have happened
    before the failure, e.g. tagged, then Rasa X reported itself unhealthy)."""
    changed = [step for step in steps if step.changed]
    if not changed:
        return ""
    if not rollback:
        return (f"{rollback_summary(outcome, enabled=False)} Changed by this run: "
                f"{', '.join(step.what for step in changed)}.")
    return _roll_back(changed, outcome, log)


def _roll_back(steps: list[_Undoable], outcome: DeployOutcome, log: Log) -> str:
    """Undo each step; what cannot be undone is reported, not hidden."""
    for step in steps:
        try:
            done = step.rollback()
        except ToolkitError as error:
            outcome.rollback_problems.append(error.message)
            log(f"Rollback step failed: {error.message}")
            continue
        if done:
            outcome.rollback_actions.append(done)
            log(f"Rolled back: {done}.")
    return rollback_summary(outcome)


def _fill_outputs(outcome: DeployOutcome, model: ModelTarget | None, helm: HelmStep | None) -> None:
    outputs = dict(model.outputs()) if model is not None else {}
    outputs.update(helm.outputs() if helm is not None else helm_outputs())
    outputs["smoke_test"] = outcome.smoke_result
    outputs["rolled_back"] = "true" if outcome.rollback_actions else "false"
    outcome.outputs = outputs


def rollback_summary(outcome: DeployOutcome, *, enabled: bool = True) -> str:
    if not enabled:
        return "Nothing was rolled back (--no-rollback)."
    parts = []
    for title, items in (("Rolled back", outcome.rollback_actions),
                         ("Not rolled back", outcome.rollback_problems)):
        if items:
            parts.append(f"{title}: " + "; ".join(item.rstrip(".") for item in items) + ".")
    return " ".join(parts) or "Nothing was changed by this run, so nothing was rolled back."
