"""Find and check the parts of a Rasa project before rasa ever starts.

Rasa silently falls back to default paths when a given one is missing, and reports
malformed YAML as a traceback-like message deep into a run. Checking here gives one clear
error, with file and line, in a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from ci_toolkit.action_helpers import RASA_PIN
from ci_toolkit.errors import UsageError
from ci_toolkit.pipeline.shape import (
    CONFIG_RULES,
    DATA_RULES,
    DOMAIN_RULES,
    TESTS_RULES,
    Rules,
    check_not_recursive,
    check_shape,
)

YAML_SUFFIXES = (".yml", ".yaml")
# Files rasa reads as training data (NLU data may be JSON); a directory without any is empty.
DATA_SUFFIXES = (*YAML_SUFFIXES, ".json")


@dataclass(frozen=True)
class RasaProject:
    root: Path
    config: Path
    domain: Path  # a file or a directory of domain files
    data: tuple[Path, ...]
    tests: Path | None  # directory or file of test stories
    actions: Path | None
    credentials: Path | None
    endpoints: Path | None

    @property
    def name(self) -> str:
        return self.root.resolve().name

    def relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


def yaml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())


class _StrictLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; rasa (ruamel) refuses the file. Refusing
    it here too names the file and both lines before rasa starts."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            # Only keys written out; a merge (`<<: *base`) may be overridden, as in rasa.
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in seen:
                raise yaml.MarkedYAMLError(
                    problem=f"the key {key!r} appears twice (first on line {seen[key]}); "
                            "rasa refuses such a file", problem_mark=key_node.start_mark)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: Path, *, what: str) -> object:
    """Parse one YAML file, turning a syntax error into a UsageError with file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{what} {path} is not UTF-8 text ({error.reason}).",
                         file=str(path)) from error
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        where = f"{path}:{line}" if line else str(path)
        problem = error.problem or error.context or "invalid YAML"
        raise UsageError(
            f"{what} {where} is not valid YAML: {problem}. Fix the file and run again.",
            file=str(path), line=line,
        ) from error
    except yaml.YAMLError as error:
        raise UsageError(f"{what} {path} is not valid YAML: {error}.", file=str(path)) from error


def _check_mapping(path: Path, *, what: str, rules: Rules, allow_empty: bool = False) -> object:
    """The file's content: a mapping whose known sections have the shape rasa expects."""
    content = load_yaml(path, what=what)
    check_not_recursive(content, path, what=what)
    if content is None and allow_empty:
        return None
    if not isinstance(content, dict):
        raise UsageError(
            f"{what} {path} must be a YAML mapping (key: value pairs), "
            f"but it holds {type(content).__name__ if content is not None else 'nothing'}.",
            file=str(path), line=1,
        )
    check_shape(content, path, what=what, rules=rules)
    return content


def _resolve(root: Path, given: str | Path | None, default: str) -> Path:
    path = Path(given) if given else Path(default)
    return path if path.is_absolute() else root / path


def _holds_files(directory: Path, suffixes: tuple[str, ...]) -> bool:
    return any(p.suffix in suffixes and not p.name.startswith(".") and p.is_file()
               for p in directory.rglob("*"))


def _require(path: Path, *, what: str, option: str, suffixes: tuple[str, ...] = (),
             file_only: bool = False) -> Path:
    """The path exists; a file when ``file_only``; a directory holds files with ``suffixes``."""
    if not path.exists():
        raise UsageError(f"{what} {path} does not exist. Create it or point {option} at it.")
    if path.is_dir() and file_only:
        inside = [p.name for p in sorted(path.glob("*")) if p.suffix in YAML_SUFFIXES][:3]
        example = f" (it holds {', '.join(inside)})" if inside else ""
        raise UsageError(f"{what} {path} is a directory, but {option} takes a file{example}. "
                         f"Point {option} at the file itself.")
    if path.is_dir() and not _holds_files(path, suffixes):
        raise UsageError(f"{what} directory {path} is empty: it holds no "
                         f"{', '.join(suffixes)} file. Add the files, or point {option} at "
                         "the directory that has them.")
    if not (path.is_dir() or path.is_file()):
        raise UsageError(f"{what} {path} is neither a file nor a directory. Point {option} "
                         "at a regular file.")
    return path


def load_project(
    root: str | Path,
    *,
    config: str | Path | None = None,
    domain: str | Path | None = None,
    data: Sequence[str | Path] | None = None,
    tests: str | Path | None = None,
    require_tests: bool = False,
) -> RasaProject:
    """Locate a project's files, failing clearly on missing paths and malformed YAML."""
    root = Path(root)
    config_path, domain_path, data_paths = locate_parts(root, config=config, domain=domain,
                                                        data=data)
    _require_parts(config_path, domain_path, data_paths)
    tests_path = _tests(root, tests, required=require_tests or bool(tests))
    _check_yaml(config_path, domain_path, data_paths, tests_path)

    def optional(name: str) -> Path | None:
        path = root / name
        return path if path.exists() else None

    return RasaProject(
        root=root,
        config=config_path,
        domain=domain_path,
        data=data_paths,
        tests=tests_path,
        actions=optional("actions"),
        credentials=optional("credentials.yml"),
        endpoints=optional("endpoints.yml"),
    )


def locate_parts(
    root: Path,
    *,
    config: str | Path | None = None,
    domain: str | Path | None = None,
    data: Sequence[str | Path] | None = None,
) -> tuple[Path, Path, tuple[Path, ...]]:
    """Config, domain and data paths of a directory that is a Rasa project (it has one of
    them at least). Checked before the run creates its output directories in it, so a
    mistyped project path does not get them."""
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory. Pass the path of a Rasa project.")
    config_path = _resolve(root, config, "config.yml")
    domain_path = _resolve(root, domain, "domain.yml")
    if not domain and not domain_path.exists() and (root / "domain").is_dir():
        domain_path = root / "domain"  # rasa also accepts a directory of domain files
    data_paths = tuple(_resolve(root, d, "data") for d in (data or ["data"]))
    if not (config_path.exists() or domain_path.exists() or any(p.exists() for p in data_paths)):
        raise UsageError(
            f"{root} is not a Rasa project: it has no config.yml, domain.yml or data/. "
            "Run ci-toolkit from your assistant's directory, or pass its path."
        )
    return config_path, domain_path, data_paths


def _require_parts(config: Path, domain: Path, data: tuple[Path, ...]) -> None:
    _require(config, what="The model configuration", option="--config", file_only=True)
    _require(domain, what="The domain", option="--domain", suffixes=YAML_SUFFIXES)
    for path in data:
        _require(path, what="The training data", option="--data", suffixes=DATA_SUFFIXES)


def _tests(root: Path, tests: str | Path | None, *, required: bool) -> Path | None:
    """The test stories, None when there are none and none were asked for."""
    tests_path = _resolve(root, tests, "tests")
    if required and tests_path.exists():
        return _require(tests_path, what="The test stories", option="--tests",
                        suffixes=YAML_SUFFIXES)
    if tests_path.is_file() or (tests_path.is_dir() and _holds_files(tests_path, YAML_SUFFIXES)):
        return tests_path
    if required:
        raise UsageError(
            f"The test stories {tests_path} do not exist. Add tests/test_stories.yml "
            "or point --tests at your test stories (or disable the core test with "
            "--test-type nlu)."
        )
    return None


def _check_yaml(config: Path, domain: Path, data: tuple[Path, ...], tests: Path | None) -> None:
    _check_mapping(config, what="The model configuration", rules=CONFIG_RULES)
    domains = [_check_mapping(path, what="The domain file", rules=DOMAIN_RULES,
                              allow_empty=domain.is_dir())
               for path in yaml_files(domain)]
    if not any(domains):
        # rasa would stop with "Encountered empty domain" and no hint where.
        what = f"directory {domain} (every file in it)" if domain.is_dir() else str(domain)
        raise UsageError(f"The domain {what} is empty: it defines no intents, "
                         "responses or slots. Add them, or point --domain elsewhere.",
                         file=str(domain))
    for path in _all_yaml(data):
        _check_mapping(path, what="The training data file", rules=DATA_RULES,
                       allow_empty=True)
    for path in yaml_files(tests) if tests is not None else ():
        _check_mapping(path, what="The test stories file", rules=TESTS_RULES,
                       allow_empty=True)


def _all_yaml(paths: Iterable[Path]) -> list[Path]:
    return [f for p in paths for f in yaml_files(p)]


def pinned_rasa_version(root: Path) -> str | None:
    """The rasa version a project pins in requirements*.txt, if it pins one."""
    for candidate in sorted(root.glob("requirements*.txt")):
        match = RASA_PIN.search(candidate.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match.group(1)
    return None
