"""The worker traces a loaded model's prediction graph from rasa's `predict_step` as written,
without AutoGraph's rewrite of it (evaluator_worker._load_weights_only), and uses AutoGraph
only where that fails. Run in rasa's own interpreter, with the TensorFlow rasa installs:

- the premise: each kind of Python control flow that AutoGraph rewrites (over a tensor's
  value) makes a trace without AutoGraph raise, with rasa's dynamic signature, instead of
  building another graph; so a model is either traced as written or loaded again with
  AutoGraph;
- on the suite's model, the worker's load really traces as written, and what the model
  predicts is exactly what rasa's own load predicts.

That every report of the test commands is the same as rasa's separate commands' (DIET,
ResponseSelector and TED, loaded this way) is proved in test_model_evaluator.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_toolkit.rasa.evaluator import WORKER
from tests.rasa_support import RASA_ENV, run_in_rasas_interpreter

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

# Traces one function per kind of control flow over a tensor's value, as rasa's
# `_rasa_predict` does (a tf.function with every dimension but the last unknown), once
# without AutoGraph and once with it; prints which ones traced.
PREMISE = """
import json
import tensorflow as tf

def if_on_value(x):
    if tf.reduce_sum(x) > 0:
        return x * 2.0
    return x

def while_on_value(x):
    while tf.reduce_sum(x) < 10.0:
        x = x + 1.0
    return x

def for_over_tensor(x):
    total = tf.zeros([3])
    for row in x:
        total += row
    return total

def range_over_length(x):
    total = tf.zeros([3])
    for i in range(len(x)):
        total += x[i]
    return total

def boolean_operator(x):
    return x if tf.reduce_any(x > 0) and tf.reduce_all(x < 5) else -x

def python_values_only(x, layers=2):
    for _ in range(layers):
        if layers > 1:
            x = tf.nn.relu(x) + 1.0
    return x

signature = [tf.TensorSpec([None, 3], tf.float32)]
batch = tf.constant([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
traced = {}
for name, function in list(globals().items()):
    if not callable(function) or getattr(function, "__module__", None) != "__main__":
        continue
    with_autograph = tf.function(function, input_signature=signature)(batch).numpy()
    try:
        as_written = tf.function(tf.autograph.experimental.do_not_convert(function),
                                 input_signature=signature)(batch).numpy()
    except Exception as error:
        traced[name] = type(error).__name__
    else:
        traced[name] = "same" if (as_written == with_autograph).all() else "different"
print(json.dumps(traced))
"""

# Loads the model with the worker's load (argv[3] == "worker") or rasa's own, and prints
# which TensorFlow components were traced as written and what a few messages parse to.
LOAD = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
import evaluator_worker
if sys.argv[3] == "worker":
    evaluator_worker._load_for_evaluation()
from rasa.core.agent import Agent
from rasa.utils.tensorflow.models import RasaModel

agent = Agent.load(model_path=sys.argv[2])
nodes = agent.processor.graph_runner._instantiated_nodes
models = {name: node._component.model for name, node in nodes.items()
          if isinstance(getattr(node._component, "model", None), RasaModel)}
messages = ["hi", "I'd like a large latte please", "what are your opening hours?",
            "can I pay by card", "a small cappuccino with oat milk", "bye"]
print(json.dumps({
    "tensorflow_components": sorted(models),
    "as_written": sorted(name for name, model in models.items()
                         if "predict_step" in vars(model)),
    "parses": [asyncio.run(agent.parse_message(m)) for m in messages],
}, default=str))
"""


def _in_rasas_interpreter(tmp_path: Path, script: str, *argv: str) -> dict:
    env = {k: v for k, v in RASA_ENV.items() if k != "CI_TOOLKIT_EVALUATION_LOAD"}
    return run_in_rasas_interpreter(script, *argv, workdir=tmp_path,
                                    env={**env, "TF_CPP_MIN_LOG_LEVEL": "2"})


def test_control_flow_over_a_tensors_value_cannot_be_traced_without_autograph(
        tmp_path: Path) -> None:
    traced = _in_rasas_interpreter(tmp_path, PREMISE)

    for rewritten in ("if_on_value", "while_on_value", "for_over_tensor",
                      "range_over_length", "boolean_operator"):
        assert traced[rewritten] not in ("same", "different"), (rewritten, traced)
    assert traced["python_values_only"] == "same"


def test_the_worker_traces_the_models_prediction_as_written_and_predicts_what_rasa_does(
        example_model: Path, tmp_path: Path) -> None:
    ours = _in_rasas_interpreter(tmp_path, LOAD, str(WORKER.parent), str(example_model),
                                 "worker")
    rasas = _in_rasas_interpreter(tmp_path, LOAD, str(WORKER.parent), str(example_model),
                                  "rasa")

    assert ours["tensorflow_components"] == rasas["tensorflow_components"] != []
    assert ours["as_written"] == ours["tensorflow_components"]
    assert rasas["as_written"] == []
    assert ours["parses"] == rasas["parses"]  # intents, ranking, responses: every float

