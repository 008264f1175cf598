"""The model evaluator's worker: runs rasa commands (validation, training, tests) one after
the other in one rasa interpreter, so that rasa is imported once and a model both test stages
need is loaded once.

This file runs in rasa's own interpreter (the one whose `rasa` executable the pipeline uses),
never in the toolkit's: it imports the standard library and rasa, nothing of ci_toolkit.
ci_toolkit/rasa/evaluator.py starts it and talks to it.

Each command is rasa's own command line, run by rasa's own entry point (`rasa.__main__.main`),
so its arguments, files and messages are exactly those of the separate CLI command. Two
differences, both in how a model is loaded, neither in what it predicts:
- `Agent.load` of a model file that an earlier command already loaded returns that agent
  instead of loading it again;
- a TensorFlow component is loaded for evaluation only (`_load_for_evaluation`): rasa's own
  load runs a one-batch training step to build the training graph before it reads the
  weights (on the example, 80 % of a test command's time), which evaluation never uses.
  The weights come from the same checkpoint; a check that every variable the model created
  was read from it guards each load, and rasa's own load is used when it fails. Its
  prediction graph is traced from rasa's code as written, without AutoGraph's rewrite of it,
  when that traces (see `_load_weights_only`). CI_TOOLKIT_EVALUATION_LOAD=rasa turns it off.
One difference in how a plot is drawn, not in what it shows: while rasa draws one
(`_cache_text_layout`), matplotlib remembers each text's measured size and layout instead of
measuring every label of a confusion matrix again in each of its drawing passes; the PNG is
the same, byte for byte. CI_TOOLKIT_PLOTS=rasa turns it off.
And one addition, for a command run with CI_TOOLKIT_ENTITY_LABELS=FILE (a cross-validation
shard's test): the token labels rasa's entity evaluation scores are also written to FILE
(`_record_entity_labels`), so that shards' entity reports can be pooled.

Protocol, over the SOCK_SEQPACKET socket whose file descriptor is argv[1]:
  request:  {"argv": [...], "env": {NAME: VALUE}} (the command's own environment variables,
            set while it runs) with two file descriptors attached (SCM_RIGHTS), the write ends of
            the pipes that become the command's stdout and stderr;
  answer:   {"returncode": N} once the command has ended and both pipes are closed.
The worker ends when the toolkit closes the socket (`_exit_without_teardown`).
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import inspect
import json
import logging
import os
import socket
import sys
import threading
import traceback
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

MAX_REQUEST_BYTES = 1 << 20


def _reuse_loaded_models() -> None:
    """Make `Agent.load(model_path=...)` return the agent already loaded from that file."""
    from rasa.core.agent import Agent

    load = Agent.load.__func__  # type: ignore[attr-defined]
    loaded: dict[tuple[str, int, int], Any] = {}

    def load_once(cls: type, model_path: str | None = None, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or model_path is None:  # a server's load, with endpoints: as is
            return load(cls, model_path, *args, **kwargs)
        stat = os.stat(model_path)
        key = (os.path.realpath(model_path), stat.st_size, stat.st_mtime_ns)
        if key not in loaded:
            loaded.clear()  # one model at a time: each holds hundreds of MB
            loaded[key] = load(cls, model_path=model_path)
        return loaded[key]

    Agent.load = classmethod(load_once)


# The parameters of rasa's RasaModel.load (rasa 3.x) the evaluation-only load stands in for.
_LOAD_PARAMETERS = ["cls", "model_file_name", "model_data_example", "predict_data_example",
                    "finetune_mode"]


def _load_weights_only(cls: type, model_file_name: str, predict_data_example: Any,
                       args: tuple[Any, ...], kwargs: dict[str, Any], *,
                       autograph: bool) -> Any:
    """rasa's RasaModel.load without its one-batch `fit`: the model reads the checkpoint,
    and each variable is restored as the first prediction creates it (TensorFlow's deferred
    restoration). Raises when a variable the model created has no value in the checkpoint.

    Without `autograph`, the prediction graph is traced from rasa's `predict_step` as
    written instead of from AutoGraph's rewrite of it (the rewrite was half of a load's time
    on the example). AutoGraph rewrites only Python control flow over a tensor's value: an
    `if`, `while`, `for` or boolean operator on a tensor. Traced as written, such a statement
    raises (a symbolic tensor has no truth value, and one of unknown length, as rasa's
    batches are, cannot be iterated), and the caller loads the model again with AutoGraph;
    any other code traces to the same operations either way."""
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY

    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
                  run_eagerly=config.get(RUN_EAGERLY))
    status = model.load_weights(model_file_name)
    if not autograph:  # rasa traces `self.predict_step`: this instance's, then
        model.predict_step = tf.autograph.experimental.do_not_convert(model.predict_step)
    # rasa's load predicts once too (to trace the prediction graph); here it also builds
    # the layers, so the restored values are in place before any real prediction.
    model.run_inference(predict_data_example)
    status.assert_existing_objects_matched()
    status.expect_partial()  # the optimizer's slot values: training only
    return model


def _load_for_evaluation() -> None:
    """Make rasa's RasaModel.load skip the training step when the model is for prediction
    (not fine-tuning); see the module's docstring."""
    if os.environ.get("CI_TOOLKIT_EVALUATION_LOAD", "").strip().lower() == "rasa":
        return
    try:
        from rasa.utils.tensorflow.models import RasaModel
    except ImportError:  # a rasa without TensorFlow components
        return
    full_load = RasaModel.load.__func__  # type: ignore[attr-defined]
    if list(inspect.signature(full_load).parameters)[:5] != _LOAD_PARAMETERS:
        return  # a rasa whose load this was not written for: its own load, unchanged

    def load(cls: type, model_file_name: str, model_data_example: Any,
             predict_data_example: Any = None, finetune_mode: bool = False,
             *args: Any, **kwargs: Any) -> Any:
        if not finetune_mode and predict_data_example is not None:
            # As written first; a prediction step that needs AutoGraph is traced with it.
            for autograph in (False, True):
                try:
                    return _load_weights_only(cls, model_file_name, predict_data_example,
                                              args, kwargs, autograph=autograph)
                except Exception as error:  # rasa's own load decides after the last
                    failure = error
            print(f"ci-toolkit: the evaluation-only load of {cls.__name__} failed "
                  f"({type(failure).__name__}: {failure}); loading it as rasa does.",
                  file=sys.stderr)
        return full_load(cls, model_file_name, model_data_example, predict_data_example,
                         finetune_mode, *args, **kwargs)

    RasaModel.load = classmethod(load)  # type: ignore[method-assign]


# The plotting functions of rasa (rasa/utils/plotting.py) that its test commands call.
_RASA_PLOTS = ("plot_confusion_matrix", "plot_paired_histogram", "plot_curve")


def _cache_text_layout() -> None:
    """Make each of rasa's plots measure each text once.

    A confusion matrix writes its count in every cell: 40,000 texts for 200 intents. Saving
    it with `bbox_inches="tight"` lays every text out in three passes, and matplotlib before
    3.6 keeps only the last 50 layouts (`Text._cached`) and measures each string with
    FreeType every time; on a 200-intent assistant that is most of `rasa test nlu`'s time.
    While a plot is drawn, both are kept for all its texts (matplotlib 3.6 caches the sizes
    itself, the same way). The keys are matplotlib's own (its layout key; the string, the
    font's hash and the renderer for a size), so what is drawn is unchanged. The garbage
    collector is paused while a plot is drawn (`_collection_paused`)."""
    if os.environ.get("CI_TOOLKIT_PLOTS", "").strip().lower() == "rasa":
        return
    try:
        from rasa.utils import plotting
    except ImportError:
        return
    for name in _RASA_PLOTS:
        function = getattr(plotting, name, None)
        if callable(function):
            setattr(plotting, name, _with_text_caches(function))


def _with_text_caches(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def plot(*args: Any, **kwargs: Any) -> Any:
        with _text_caches(), _collection_paused():
            return function(*args, **kwargs)

    return plot


@contextlib.contextmanager
def _text_caches() -> Iterator[None]:
    from matplotlib import text
    from matplotlib.backends import backend_agg

    renderer = backend_agg.RendererAgg
    measure = renderer.get_text_width_height_descent
    layouts = getattr(text.Text, "_cached", None)
    if (not isinstance(layouts, dict)  # matplotlib 3.6 and later: cached there
            or list(inspect.signature(measure).parameters) != ["self", "s", "prop", "ismath"]):
        yield
        return
    sizes: dict[tuple[Any, ...], Any] = {}

    def measured(self: Any, s: str, prop: Any, ismath: Any) -> Any:
        key = (weakref.ref(self), self.dpi, s, hash(prop), ismath)
        if key not in sizes:
            sizes[key] = measure(self, s, prop, ismath)
        return sizes[key]

    text.Text._cached = {}
    renderer.get_text_width_height_descent = measured
    try:
        yield
    finally:
        text.Text._cached = layouts
        renderer.get_text_width_height_descent = measure


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a plot is drawn: the plot's hundreds
    of thousands of new objects would start full collections, each scanning everything this
    interpreter holds (rasa, TensorFlow, the loaded model), none finding the plot's garbage
    before it is done. Collections resume after it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


ENTITY_LABELS_VARIABLE = "CI_TOOLKIT_ENTITY_LABELS"


def _record_entity_labels() -> None:
    """Make rasa's `evaluate_entities` first write the per-token gold and predicted labels it
    is about to score, per extractor, to the file CI_TOOLKIT_ENTITY_LABELS names (when set).

    rasa scores entities per token of the model's own tokenizer, which none of its result
    files record; these labels are what its entity reports are computed from, so a merge
    can pool them (ci_toolkit/crossval/merge.py). The lines repeat rasa's own
    (rasa/nlu/test.py::evaluate_entities), which then runs unchanged."""
    try:
        from rasa.nlu import test as nlu_test
    except ImportError:
        return
    evaluate = nlu_test.evaluate_entities

    def evaluate_entities(entity_results: Any, extractors: Any, *args: Any,
                          **kwargs: Any) -> Any:
        target = os.environ.get(ENTITY_LABELS_VARIABLE)
        if target:
            _write_entity_labels(nlu_test, entity_results, extractors, target)
        return evaluate(entity_results, extractors, *args, **kwargs)

    nlu_test.evaluate_entities = evaluate_entities


def _write_entity_labels(nlu_test: Any, entity_results: Any, extractors: Any,
                         target: str) -> None:
    from rasa.shared.nlu.constants import NO_ENTITY_TAG

    no_entity = nlu_test.NO_ENTITY
    aligned = nlu_test.align_all_entity_predictions(entity_results, extractors)
    targets = nlu_test.substitute_labels(nlu_test.merge_labels(aligned), NO_ENTITY_TAG,
                                         no_entity)
    labels = {}
    for extractor in sorted(extractors):
        predictions = nlu_test.substitute_labels(nlu_test.merge_labels(aligned, extractor),
                                                 NO_ENTITY_TAG, no_entity)
        cleaned = []
        if hasattr(nlu_test, "plugin_manager"):  # rasa 3.6 lets a plugin clean the targets
            cleaned = nlu_test.plugin_manager().hook.clean_entity_targets_for_evaluation(
                merged_targets=targets, extractor=extractor)
        labels[extractor] = {"targets": cleaned[0] if cleaned else targets,
                             "predictions": predictions}
    with open(target, "w", encoding="utf-8") as out:
        json.dump({"no_entity": no_entity, "extractors": labels}, out)


# The warning filters a fresh interpreter starts with (PYTHONWARNINGS included).
_STARTING_FILTERS = list(warnings.filters)


def _forget_shown_warnings() -> None:
    """rasa shows each UserWarning once per process: each command starts with the filters
    and the (empty) record of shown warnings that its own process would have."""
    warnings.filters[:] = _STARTING_FILTERS
    warnings.onceregistry.clear()  # type: ignore[attr-defined]
    warnings._filters_mutated()  # type: ignore[attr-defined]  # drops modules' registries


def _exit_code(stop: SystemExit) -> int:
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    print(stop.code, file=sys.stderr)
    return 1


class _FreshProcess:
    """What a command's own process would start with, where a command changes it for the
    commands after it: the environment variables (rasa's entry point sets LOG_LEVEL), the
    import path (it inserts the working directory), the root logger's handlers (it adds a
    filter of repeated lines to those it finds: none in a fresh process, but the previous
    command's here, which then dropped all but one of a Duckling server's identical
    connection errors), and the warning filters (`_forget_shown_warnings`). Taken when the
    worker is ready, before its first command."""

    def __init__(self) -> None:
        root = logging.getLogger()
        self.environ = dict(os.environ)
        self.path = list(sys.path)
        # rasa's filter goes on every handler it finds, so the ones there from the start get
        # their own filters back too.
        self.handlers = {handler: list(handler.filters) for handler in root.handlers}
        self.level = root.level

    def restore(self, env: dict[str, str]) -> None:
        os.environ.clear()
        os.environ.update({**self.environ, **env})
        sys.path[:] = self.path
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h not in self.handlers]:
            root.removeHandler(handler)
        for handler, filters in self.handlers.items():
            handler.filters[:] = filters
        root.setLevel(self.level)
        _forget_shown_warnings()


def _run_command(argv: list[str], env: dict[str, str], stdout_fd: int, stderr_fd: int,
                 fresh: _FreshProcess) -> int:
    import rasa.__main__

    fresh.restore(env)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)
    os.close(stdout_fd)
    os.close(stderr_fd)
    sys.argv = ["rasa", *argv]
    try:
        rasa.__main__.main()
        code = 0
    except SystemExit as stop:
        code = _exit_code(stop)
    except BaseException:  # what the interpreter would print before exiting with 1
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # Restoring 1 and 2 closes the last write ends: the toolkit reads to the end.
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
    return code


def serve(channel: socket.socket) -> None:
    fresh = _FreshProcess()
    while True:
        message, fds, _, _ = socket.recv_fds(channel, MAX_REQUEST_BYTES, 2)
        if not message:
            return
        request = json.loads(message)
        code = _run_command(request["argv"], request.get("env") or {}, fds[0], fds[1], fresh)
        channel.send(json.dumps({"returncode": code}).encode())


def main() -> int:
    channel = socket.socket(fileno=int(sys.argv[1]))
    try:
        import rasa  # noqa: F401  (a clear failure now rather than in the first command)
    except ImportError as error:
        print(f"rasa cannot be imported by {sys.executable}: {error}", file=sys.stderr)
        return 3
    _reuse_loaded_models()
    _load_for_evaluation()
    _record_entity_labels()
    _cache_text_layout()
    channel.send(json.dumps({"ready": True}).encode())
    serve(channel)
    return 0


def _exit_without_teardown(code: int) -> NoReturn:
    """End the worker as the interpreter would, less its last step: freeing every module
    and object, which with TensorFlow loaded takes seconds (the pipeline waits for the
    worker to end) and has nothing to show. What can be seen of an exit still happens: other
    threads are waited for, exit handlers run (logging's flush among them), output is
    flushed."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_without_teardown(main())
