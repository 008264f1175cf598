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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ci_toolkit.deploy.conversations import Conversation, SmokeReport, SmokeTester, run_smoke_test
from ci_toolkit.deploy.helm import HelmCli, UpgradeSpec
from ci_toolkit.deploy.rasa_server import (
    ModelSource,
    RasaServerClient,
    ServerStatus,
    rollback_source,
)
from ci_toolkit.deploy.rasax import RasaXClient
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
        self.client.tag_model(self.model_name, self.tag)
        self.changed = True
        self.client.check_healthy()

    def rollback(self) -> str | None:
        if not self.previous_model or self.previous_model == self.model_name:
            return None
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
        self.client.replace_model(self.source)
        self.changed = True
        self.after = self.client.wait_for_model(self.source, self.before)
        self.client.http.log(f"Rasa server now runs model {self.after.model_file}.")

    def rollback(self) -> str | None:
        if self.before is None:
            return None
        previous = rollback_source(self.before, self.source)
        if previous is None:
            return None
        self.client.replace_model(previous)
        self.client.wait_for_model(previous, self.after or self.before)
        return f"loaded the previous model {previous.model_file} on the Rasa server"

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

    def upgrade(self) -> None:
        self.previous_revision = self.cli.deployed_revision(self.spec.target)
        self.revision = self.cli.upgrade(self.spec)

    def rollback(self) -> str | None:
        if self.revision is None or self.previous_revision is None:
            return None
        created = self.cli.rollback(self.spec.target, self.previous_revision,
                                    wait=self.spec.wait, timeout=self.spec.timeout)
        return (f"rolled helm release '{self.spec.target.release}' back to revision "
                f"{self.previous_revision} (now revision {created})")

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
    step). Failures before the smoke test roll back what was done and raise; ``outcome``
    (when the caller passes one) holds the outputs known so far either way."""
    outcome = outcome if outcome is not None else DeployOutcome()
    try:
        if model is not None:
            model.prepare()
        if helm is not None:
            helm.upgrade()
            log(f"Helm release '{helm.spec.target.release}' is at revision {helm.revision} "
                f"(was {helm.previous_revision or 'not installed'}).")
    finally:
        _fill_outputs(outcome, model, helm)
    try:
        if model is not None:
            model.activate()
    except ToolkitError as error:
        # The model switch may have happened before the failure (e.g. tagged, then Rasa X
        # reported itself unhealthy): undo it too, then the release.
        steps: list[_Undoable] = [step for step in (model, helm) if step is not None]
        if model is not None and not model.changed:
            steps.remove(model)
        undone = _roll_back(steps, outcome, log) if rollback and steps else ""
        _fill_outputs(outcome, model, helm)
        raise ToolkitError(f"{error.message} {undone}".strip()) from None
    if smoke is not None:
        outcome.smoke = run_smoke_test(smoke.tester, smoke.conversations, source=smoke.source,
                                       timeout_s=smoke.timeout_s, interval_s=smoke.interval_s,
                                       log=log)
        if not outcome.smoke.passed and rollback:
            _roll_back([step for step in (model, helm) if step is not None], outcome, log)
    _fill_outputs(outcome, model, helm)
    return outcome


class _Undoable(Protocol):
    what: str

    def rollback(self) -> str | None: ...


def _roll_back(steps: list[_Undoable], outcome: DeployOutcome, log: Log) -> str:
    """Undo each step; a step that cannot be undone is reported, not hidden."""
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
        else:
            outcome.rollback_problems.append(
                f"{step.what}: nothing to go back to (first deployment, or the previous "
                "version is unknown)")
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
    if outcome.rollback_actions:
        parts.append("Rolled back: " + "; ".join(outcome.rollback_actions) + ".")
    if outcome.rollback_problems:
        parts.append("Not rolled back: " + "; ".join(outcome.rollback_problems) + ".")
    return " ".join(parts) or "Nothing was deployed by this run, so nothing was rolled back."
