"""What the model configuration asks of the CI job: custom component packages (code that
changes the model, so the workflows watch it), a Duckling server for
DucklingEntityExtractor, and packages (spaCy models, transformers) rasa does not install
by itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ci_toolkit.action_helpers import RASA_PIN
from ci_toolkit.errors import UsageError
from ci_toolkit.pipeline.project import load_yaml

DUCKLING = ("DucklingEntityExtractor", "DucklingHTTPExtractor")  # the second: rasa 2's name
_PORT_OF_SCHEME = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ModelNeeds:
    component_paths: tuple[str, ...] = ()  # relative to the project: a package or a module
    duckling_ports: tuple[int, ...] = ()  # host ports the Duckling url(s) use
    # http://localhost:PORT when a url names another host (e.g. a compose service name),
    # which a job on the runner cannot resolve: rasa reads RASA_DUCKLING_HTTP_URL instead.
    duckling_url: str | None = None
    notes: tuple[str, ...] = ()  # what must be installed, for the user


def _components(config: object) -> list[dict]:
    if not isinstance(config, dict):
        return []
    items = [*(config.get("pipeline") or []), *(config.get("policies") or [])]
    return [item for item in items if isinstance(item, dict) and isinstance(item.get("name"),
                                                                           str)]


def _package_path(root: Path, name: str) -> str | None:
    """The project path of a dotted component name's top-level package, if it is there."""
    top = name.split(".", 1)[0]
    if not top.isidentifier():
        return None
    if (root / top).is_dir():
        return top
    if (root / f"{top}.py").is_file():
        return f"{top}.py"
    return None  # installed from a package index: the requirements file covers it


_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def _duckling_port(url: object, config: Path) -> tuple[int, bool]:
    """The url's port, and whether the url names this machine."""
    text = url if isinstance(url, str) and url else "http://localhost:8000"
    parts = urlsplit(text)
    try:
        port = parts.port or _PORT_OF_SCHEME.get(parts.scheme)
    except ValueError:
        port = None
    if parts.scheme not in _PORT_OF_SCHEME or not parts.hostname or port is None:
        raise UsageError(f"DucklingEntityExtractor's url {text!r} in {config} is not an "
                         "http(s) URL with a host: use one such as http://localhost:8000.",
                         file=str(config))
    return port, parts.hostname in _LOCAL_HOSTS


def _install_notes(components: list[dict], requirements: str, version: str) -> list[str]:
    notes = []
    for item in components:
        if item["name"] == "SpacyNLP":
            model = str(item.get("model") or "<the spaCy model of your language>")
            if model not in requirements:
                notes.append(
                    f"config.yml uses SpacyNLP with the model {model}: add "
                    f"`rasa[spacy]=={version}` and the model (a package, or its wheel URL "
                    "from https://github.com/explosion/spacy-models/releases) to "
                    "requirements.txt; the workflows install it next to rasa "
                    "(rasa_requirements).")
        elif item["name"] == "LanguageModelFeaturizer" and "transformers" not in requirements:
            notes.append(
                f"config.yml uses LanguageModelFeaturizer: add `rasa[transformers]=={version}` "
                "to requirements.txt; the workflows install it next to rasa "
                "(rasa_requirements).")
    return notes


def model_needs(root: Path, config: Path, requirements: Path | None, version: str) -> ModelNeeds:
    """Read the configuration (a UsageError names the file and line of a YAML error)."""
    components = _components(load_yaml(config, what="The model configuration"))
    packages = {path for item in components if "." in item["name"]
                if (path := _package_path(root, item["name"])) is not None}
    duckling = [_duckling_port(item.get("url"), config) for item in components
                if item["name"] in DUCKLING]
    remote = [port for port, local in duckling if not local]
    text = requirements.read_text(encoding="utf-8", errors="replace") if requirements else ""
    notes = _install_notes(components, text, version)
    if not requirements and notes:
        notes.append("The project has no requirements.txt: create it, and scaffold again "
                     "so that the workflows install it.")
    return ModelNeeds(component_paths=tuple(sorted(packages)),
                      duckling_ports=tuple(sorted({port for port, _ in duckling})),
                      duckling_url=f"http://localhost:{remote[0]}" if remote else None,
                      notes=tuple(notes))


def pins_rasa(requirements: Path) -> bool:
    return bool(RASA_PIN.search(requirements.read_text(encoding="utf-8", errors="replace")))
