"""Stage fingerprints: a hash of exactly the inputs that can change a stage's result.

Files are hashed by their parsed YAML content, so reformatting or editing a comment does
not invalidate anything. NLU-only stages (NLU test, cross-validation) hash only what the
NLU pipeline sees, so a change to a plain response text or a story leaves them cached.

Custom components (a `name:` that is a dotted module path) are code, so their source is an
input too: the whole top-level package or module they live in, inside the project. A custom
component that is not in the project (an installed package) cannot be fingerprinted, so the
stages that depend on it are never cached.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_toolkit.hashing import file_sha256
from ci_toolkit.pipeline.project import YAML_SUFFIXES, RasaProject, load_yaml, yaml_files
from ci_toolkit.pipeline.registry import STAGE_NAMES
from ci_toolkit.pipeline.settings import PipelineSettings

# Config keys that shape the NLU pipeline; `policies` shape only dialogue management.
NLU_CONFIG_KEYS = ("recipe", "language", "pipeline")
# Domain sections the NLU pipeline trains on (intents/entities labels; retrieval responses
# are the ResponseSelector's targets).
NLU_DOMAIN_KEYS = ("intents", "entities")
# Config keys that bring in data or code from elsewhere (custom importers, other projects),
# which the fingerprint cannot see: with either, nothing is cached.
FOREIGN_INPUT_KEYS = ("importers", "imports")


def _canonical(value: Any, above: frozenset[int] = frozenset()) -> Any:
    """JSON-ready data: keys as strings (YAML keys may be numbers, dates or booleans, which
    json cannot sort among strings) and a value inside itself (load_project refuses such a
    file; this only keeps the hash from crashing) as a marker."""
    if not isinstance(value, (dict, list, tuple)):
        return value
    if id(value) in above:
        return "<recursive>"
    inner = above | {id(value)}
    if isinstance(value, dict):
        return {str(key): _canonical(item, inner) for key, item in value.items()}
    return [_canonical(item, inner) for item in value]


def digest(value: Any) -> str:
    canonical = json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _list(value: Any) -> list[Any]:
    """A section that should be a list; anything else (load_project refuses it) as empty."""
    return value if isinstance(value, list) else []


def _documents(paths: Iterable[Path], *, what: str) -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in paths:
        content = load_yaml(path, what=what)
        if isinstance(content, dict):
            docs.append((path.name, content))
    return docs


def custom_components(config: dict[str, Any], key: str) -> list[str]:
    """Names in config[key] ("pipeline" or "policies") that are module paths, not built-ins."""
    names = [entry.get("name") for entry in _list(config.get(key)) if isinstance(entry, dict)]
    return [name for name in names if isinstance(name, str) and "." in name]


def _source_files(root: Path, component: str) -> list[Path] | None:
    """The project's source of a component's top-level package or module; None if not there."""
    top = component.split(".", 1)[0]
    package, module = root / top, root / f"{top}.py"
    if package.is_dir():
        return sorted(p for p in package.rglob("*.py") if p.is_file())
    if module.is_file():
        return [module]
    return None


@dataclass(frozen=True)
class CustomCode:
    """Digest of the source of the custom components one part of the config names."""

    digest: str
    outside_project: tuple[str, ...]  # components whose code cannot be fingerprinted

    @classmethod
    def of(cls, root: Path, components: list[str]) -> CustomCode:
        sources: dict[str, str] = {}
        outside = []
        for component in components:
            files = _source_files(root, component)
            if files is None:
                outside.append(component)
                continue
            sources.update({p.relative_to(root).as_posix(): file_sha256(p) for p in files})
        return cls(digest=digest(sources), outside_project=tuple(outside))


def _other_data_files(project: RasaProject) -> dict[str, str]:
    """Training data that is not YAML (JSON NLU data, lookup-table text files): raw bytes."""
    found = {}
    for top in project.data:
        files = [top] if top.is_file() else [p for p in top.rglob("*") if p.is_file()]
        for path in files:
            if path.suffix not in YAML_SUFFIXES and not path.name.startswith("."):
                found[project.relative(path)] = file_sha256(path)
    return found


def _has_end_to_end_steps(core_data: list[dict[str, Any]]) -> bool:
    """Stories or rules with user or bot text: `rasa train` trains NLU featurizers on them."""
    for doc in core_data:
        for flow in _list(doc.get("stories")) + _list(doc.get("rules")):
            steps = flow.get("steps") if isinstance(flow, dict) else None
            if any(isinstance(step, dict) and ("user" in step or "bot" in step)
                   for step in _list(steps)):
                return True
    return False


def _retrieval_responses(responses: Any) -> dict[str, Any]:
    if not isinstance(responses, dict):
        return {}
    return {name: value for name, value in responses.items() if "/" in str(name)}


@dataclass(frozen=True)
class ProjectDigests:
    """Hashes of the parts of a project, each the input of some stages."""

    config_all: str
    config_nlu: str
    domain_all: str
    domain_nlu: str
    data_nlu: str
    data_core: str
    tests: str
    code_nlu: CustomCode
    code_core: CustomCode
    foreign_inputs: tuple[str, ...]  # config keys that bring in inputs from elsewhere

    @classmethod
    def of(cls, project: RasaProject) -> ProjectDigests:
        config = load_yaml(project.config, what="The model configuration") or {}
        assert isinstance(config, dict)
        domains = _documents(yaml_files(project.domain), what="The domain file")
        data_docs = _documents(
            [f for p in project.data for f in yaml_files(p)], what="The training data file"
        )
        nlu_data = [doc.get("nlu") for _, doc in data_docs if doc.get("nlu")]
        data_responses = [doc.get("responses") for _, doc in data_docs if doc.get("responses")]
        core_data = [
            {key: doc.get(key) for key in ("stories", "rules") if doc.get(key)}
            for _, doc in data_docs
        ]
        domain_nlu = [
            {**{key: doc.get(key) for key in NLU_DOMAIN_KEYS},
             "retrieval": _retrieval_responses(doc.get("responses"))}
            for _, doc in domains
        ]
        nlu_responses = [_retrieval_responses(r) for r in data_responses]
        nlu_inputs: list[Any] = [nlu_data, _other_data_files(project)]
        if _has_end_to_end_steps(core_data):
            nlu_inputs.append(core_data)
        tests = (
            [doc for _, doc in _documents(yaml_files(project.tests), what="The test stories file")]
            if project.tests is not None
            else []
        )
        return cls(
            config_all=digest(config),
            config_nlu=digest({key: config.get(key) for key in NLU_CONFIG_KEYS}),
            domain_all=digest([doc for _, doc in domains] + data_responses),
            domain_nlu=digest(domain_nlu + nlu_responses),
            data_nlu=digest(nlu_inputs),
            data_core=digest(core_data),
            tests=digest(tests),
            code_nlu=CustomCode.of(project.root, custom_components(config, "pipeline")),
            code_core=CustomCode.of(project.root, custom_components(config, "policies")),
            foreign_inputs=tuple(key for key in FOREIGN_INPUT_KEYS if config.get(key)),
        )


def stage_fingerprints(
    project: RasaProject,
    settings: PipelineSettings,
    *,
    rasa_version: str | None,
    given_model: Path | None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, str | None]:
    """Fingerprint per stage; None means "never cache this stage"."""
    parts = ProjectDigests.of(project)
    if parts.foreign_inputs:
        if warn is not None:
            warn(f"[cache] the model configuration uses {' and '.join(parts.foreign_inputs)}, "
                 "which bring in inputs the fingerprint cannot see; no stage is cached")
        return dict.fromkeys(STAGE_NAMES)
    nlu_inputs = {"config": parts.config_nlu, "domain": parts.domain_nlu, "nlu": parts.data_nlu,
                  "code": parts.code_nlu.digest}
    files = {"config": parts.config_all, "domain": parts.domain_all,
             "nlu": parts.data_nlu, "core": parts.data_core}
    # Validation reads the files but never imports the components.
    everything = {**files, "code": [parts.code_nlu.digest, parts.code_core.digest]}
    base = {"rasa": rasa_version, "fingerprint_version": 2}

    validate = digest({**base, "stage": "validate", **files,
                       "args": settings.validate_args, "strict": settings.fail_on_warnings})
    outside = parts.code_nlu.outside_project + parts.code_core.outside_project
    if outside and warn is not None and given_model is None:
        warn(f"[cache] {', '.join(outside)}: not in the project, so its code cannot be "
             "fingerprinted; train and the stages that use its model are not cached")
    # Fine-tuning starts from whatever model was last trained, so its result has no
    # fingerprint; neither has a model built with code from outside the project.
    train = None if settings.finetune or outside else digest({
        **base, "stage": "train", **everything, "type": settings.train_type,
        "args": settings.train_args, "name": settings.fixed_model_name,
    })
    given = file_sha256(given_model) if given_model is not None else None
    core_model = given or train
    test_core = digest({**base, "stage": "test_core", "model": core_model, "tests": parts.tests,
                        "args": settings.test_core_args}) if core_model else None
    # A given model is what is tested; a trained one is determined by its NLU inputs.
    nlu_trained = None if settings.finetune or parts.code_nlu.outside_project else nlu_inputs
    nlu_model = given or nlu_trained
    test_nlu = digest({
        **base, "stage": "test_nlu", "args": settings.test_nlu_args, "data": parts.data_nlu,
        # `rasa test nlu --domain` adds the domain's retrieval responses to the test data.
        "domain": parts.domain_nlu, "model": nlu_model,
    }) if nlu_model else None
    cross_validate = None if parts.code_nlu.outside_project else digest({
        **base, "stage": "cross_validate", **nlu_inputs, "folds": settings.folds,
        "args": settings.test_nlu_args})
    return {
        "validate": validate,
        "train": train,
        "test_core": test_core,
        "test_nlu": test_nlu,
        "cross_validate": cross_validate,
    }
