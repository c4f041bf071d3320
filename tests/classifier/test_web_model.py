"""The served model in the browser (TensorFlow.js): the same figures as the server's.

The committed ``classifier/artifacts/web/`` must be the web copy of the committed
``model.keras``: checked here file by file (fast), by converting again (needs ``.venv-web``) and
by running it in headless Chromium against ``classifier.predictor`` on real test images.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from classifier import predictor
from ml_training import architectures, export, export_web

WEB_DIR = predictor.ARTIFACTS_DIR / "web"
BROWSER_TOLERANCE = 1e-3  # the figure; measured: see the printed max difference
BROWSER_IMAGES = 200


def _manifest_files(web_dir) -> list[str]:
    manifest = json.loads((web_dir / "model.json").read_text())["weightsManifest"]
    return [path for group in manifest for path in group["paths"]]


def _weights(web_dir) -> dict[str, np.ndarray]:
    """Every weight of a graph model, by name, decoded from its shards as the manifest says."""
    manifest = json.loads((web_dir / "model.json").read_text())["weightsManifest"]
    weights = {}
    for group in manifest:
        data = b"".join((web_dir / path).read_bytes() for path in group["paths"])
        offset = 0
        for entry in group["weights"]:
            count = int(np.prod(entry["shape"], dtype=np.int64))
            values = np.frombuffer(data, entry["dtype"], count, offset)
            weights[entry["name"]] = values.reshape(entry["shape"])
            offset += values.nbytes
    return weights


def test_committed_web_copy_is_complete():
    """Catches a promotion that forgot the web copy, or a web copy of another model."""
    model = json.loads((WEB_DIR / "model.json").read_text())
    assert model["format"] == "graph-model"
    shards = _manifest_files(WEB_DIR)
    assert shards and all((WEB_DIR / name).is_file() for name in shards)
    dtype_bytes = {"float32": 4, "int32": 4}
    expected = sum(
        dtype_bytes[w["dtype"]] * int(np.prod(w["shape"], dtype=np.int64))
        for group in model["weightsManifest"]
        for w in group["weights"]
    )
    assert sum((WEB_DIR / name).stat().st_size for name in shards) == expected
    weights = [w for group in model["weightsManifest"] for w in group["weights"]]
    assert not any("quantization" in w for w in weights)  # float32 weights, as the server's
    card = json.loads((predictor.ARTIFACTS_DIR / "model_card.json").read_text())
    assert json.loads((WEB_DIR / "model_card.json").read_text()) == card
    (output,) = model["signature"]["outputs"].values()
    assert int(output["tensorShape"]["dim"][-1]["size"]) == len(card["classes"])
    leftovers = {p.name for p in WEB_DIR.iterdir()} - {"model.json", "model_card.json", *shards}
    assert not leftovers, f"stale files in {WEB_DIR}: {leftovers}"


def _two_calls(network):
    """A flip-averaged model as exported before ``Views``: the network called once per view."""
    import keras

    inputs = keras.Input(architectures.INPUT_SHAPE)
    mirrored = architectures.HorizontalFlip()(inputs)
    return keras.Model(inputs, keras.layers.Average()([network(inputs), network(mirrored)]))


@pytest.mark.parametrize(
    "wrap",
    [
        lambda network: architectures.with_flip_averaging(network),
        lambda network: architectures.with_flip_averaging(network, architectures.SHIFTS),
        _two_calls,
    ],
    ids=["two views", "ten views", "two views, two calls (older files)"],
)
def test_the_graph_for_the_browser_averages_the_same_views_as_the_server(tmp_path, wrap):
    """What the converter is handed: the views stacked in one batch (the weights once), with
    the same answers as the served Keras model."""
    import tensorflow as tf

    model = wrap(architectures.build("cnn"))
    model.save(tmp_path / "model.keras")
    export_web._write_saved_model(tmp_path / "model.keras", tmp_path / "saved")
    graph = tf.saved_model.load(str(tmp_path / "saved")).signatures["serving_default"]
    x = np.random.default_rng(0).random((5, 28, 28, 1)).astype(np.float32)
    (answers,) = graph(images=tf.constant(x)).values()
    np.testing.assert_allclose(answers, model(x, training=False), atol=1e-6)


def test_export_without_the_converter_names_the_make_target(tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text("{}")
    (run / "model.keras").write_bytes(b"")
    monkeypatch.setattr(export_web, "CONVERTER", tmp_path / "no-venv-web" / "converter")
    with pytest.raises(export.ExportError, match="`make web-export-env`"):
        export.export(run, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()  # refused before writing anything


@pytest.mark.slow
@pytest.mark.skipif(
    not export_web.CONVERTER.is_file() and os.environ.get("PERCHA_REQUIRE_WEB_EXPORT") != "1",
    reason=f"{export_web.CONVERTER} missing: {export_web.MAKE_TARGET} "
    "(PERCHA_REQUIRE_WEB_EXPORT=1 makes this a failure)",
)
def test_converting_the_served_model_again_gives_the_committed_web_copy(tmp_path):
    """The committed web copy is the conversion of the committed model.keras, weight for weight."""
    (tmp_path / "group1-shard9of9.bin").write_bytes(b"stale")  # from an earlier, larger model
    model_json = export_web.export_web(predictor.ARTIFACTS_DIR / "model.keras", tmp_path)
    fresh, committed = (json.loads((d / "model.json").read_text()) for d in (tmp_path, WEB_DIR))
    assert fresh["modelTopology"] == committed["modelTopology"]
    assert fresh["weightsManifest"] == committed["weightsManifest"]
    # Weight for weight, not bit for bit: the converter folds constants (batch normalization
    # into the convolutions) with the CPU's own arithmetic, and an AVX2 and an AVX-512 machine
    # round the last bit differently (measured: 4.8e-7 at most, on weights up to 6.3).
    fresh_weights, committed_weights = _weights(tmp_path), _weights(WEB_DIR)
    assert fresh_weights.keys() == committed_weights.keys()
    for name, values in committed_weights.items():
        if values.dtype.kind == "f":
            np.testing.assert_allclose(fresh_weights[name], values, rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_array_equal(fresh_weights[name], values, err_msg=name)
    assert model_json == tmp_path / "model.json"
    assert not (tmp_path / "group1-shard9of9.bin").exists()
    assert (tmp_path / "model_card.json").read_bytes() == (
        predictor.ARTIFACTS_DIR / "model_card.json"
    ).read_bytes()


RUN_IN_BROWSER = """
const [base, pixels, backend, done] = arguments;
(async () => {
  const m = await import(base + "js/classifier/model.js");
  const options = { wasmPath: base + "vendor/", backend: backend || undefined };
  const classifier = await m.loadClassifier(base + "model/", options);
  const batch = Float32Array.from(pixels, (v) => v / 255);
  const single = classifier.predict(batch.subarray(0, 784));  // also warms the backend up
  const started = performance.now();
  const probabilities = classifier.predict(batch);
  const msPerImage = (performance.now() - started) / probabilities.length;
  done({
    backend: classifier.backend,
    classes: classifier.classes,
    temperature: classifier.temperature,
    threshold: classifier.threshold,
    msPerImage,
    single: Array.from(single[0]),
    probabilities: probabilities.map((p) => Array.from(p)),
    top: m.topClasses(probabilities[0], classifier.classes),
  });
})().catch((error) => done({ error: String(error && error.stack || error) }));
"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # live_server flushes
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("backend", [None, "cpu"])  # the default (WebAssembly), the fallback
def test_browser_gives_the_servers_probabilities(chromium, live_server, fashion_test_set, backend):
    from tests.browser import browser_errors, load_runtime

    # plain JavaScript takes ~0.3 s an image of the ten-view model: fewer for the fallback
    images = fashion_test_set[0][: BROWSER_IMAGES if backend is None else BROWSER_IMAGES // 5]
    chromium.get(live_server.url + "/")
    load_runtime(chromium, live_server.url + "/static/")
    result = chromium.execute_async_script(
        RUN_IN_BROWSER, live_server.url + "/static/", images.ravel().tolist(), backend
    )
    assert "error" not in result, f"{result['error']}; console: {browser_errors(chromium)}"

    served = predictor.load(str(predictor.DEFAULT_MODEL_PATH))
    expected = served.predict(images.astype(np.float32) / 255)
    got = np.array(result["probabilities"], dtype=np.float32)
    difference = float(np.abs(got - expected).max())
    print(
        f"\nbrowser ({result['backend']}) vs server on {len(images)} test images: max abs "
        f"difference {difference:.2e}, {result['msPerImage']:.1f} ms per image"
    )
    assert got.shape == expected.shape
    assert difference < BROWSER_TOLERANCE
    assert (got.argmax(1) == expected.argmax(1)).all()
    assert np.abs(np.array(result["single"]) - expected[0]).max() < BROWSER_TOLERANCE
    card = served.card
    assert result["classes"] == [c["name"] for c in card["classes"]]
    assert result["temperature"] == served.temperature
    assert result["threshold"] == served.threshold
    assert result["backend"] == (backend or "wasm")
    top = result["top"]
    assert [t["index"] for t in top] == list(np.argsort(-expected[0])[:3])
    assert top[0]["name"] == card["classes"][top[0]["index"]]["name"]
