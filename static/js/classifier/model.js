// The served model in the browser: the TensorFlow.js copy that ml_training.export writes into
// classifier/artifacts/web/ (served at /static/model/), with its model card beside it.
// `tf` is the global from /static/vendor/tf.min.js (TensorFlow.js 4.22.0), loaded first.
//
// The figures match the server's (classifier/predictor.py: LiteRT, then temperature scaling)
// to about 1e-6; tests/classifier/test_web_model.py measures it in headless Chromium.

const PIXELS = 28 * 28;

// "wasm" (TensorFlow.js's WebAssembly backend, SIMD where the browser has it): float32 like the
// server, and measured in headless Chromium on a 2-core machine 6.1 ms an image against 74 ms on
// "cpu" (plain JavaScript), both within 5e-7 of the server. "cpu" is the fallback when the
// WebAssembly files cannot be fetched or compiled. WebGL computes in float16 on some (mobile)
// GPUs and, without a GPU, runs in software (73 ms); {backend: "webgl"} is there for a GPU page.
const PREFERRED_BACKENDS = ["wasm", "cpu"];

async function useBackend(names, wasmPath) {
  for (const name of names) {
    if (name === "wasm") {
      if (!tf.wasm) continue; // vendor/tf-backend-wasm.min.js not loaded
      if (wasmPath) tf.wasm.setWasmPaths(wasmPath); // else beside tf-backend-wasm.min.js
    }
    try {
      if (tf.getBackend() === name || (await tf.setBackend(name))) {
        await tf.ready();
        return name;
      }
    } catch (error) {
      console.warn(`TensorFlow.js backend ${name} unavailable: ${error}`);
    }
  }
  throw new Error(`no TensorFlow.js backend among ${names.join(", ")}`);
}

// The server's predictor.soften: softmax(log(clip(p, 1e-12, 1)) / T), in place.
function soften(probabilities, temperature) {
  if (temperature === 1) return probabilities;
  const logits = Array.from(probabilities, (p) => Math.log(Math.min(Math.max(p, 1e-12), 1)) / temperature);
  const top = Math.max(...logits);
  const scaled = logits.map((l) => Math.exp(l - top));
  const total = scaled.reduce((a, b) => a + b, 0);
  scaled.forEach((s, i) => { probabilities[i] = s / total; });
  return probabilities;
}

/**
 * Load the model and its card from `baseUrl` (ending in "/", e.g. "/static/model/").
 * `wasmPath` is where the backend's .wasm files are (the vendor folder); `backend` picks one.
 * Returns {card, classes, temperature, threshold, backend, predict(batch)}:
 * predict takes a Float32Array of n*784 values in [0, 1] (n 28x28 images, row by row) and
 * returns n Float32Array probability vectors, temperature-scaled as the server's.
 */
export async function loadClassifier(baseUrl, { backend, wasmPath } = {}) {
  await useBackend(backend ? [backend] : PREFERRED_BACKENDS, wasmPath);
  const response = await fetch(`${baseUrl}model_card.json`);
  if (!response.ok) throw new Error(`model card: ${response.status} ${response.statusText}`);
  const card = await response.json();
  const model = await tf.loadGraphModel(`${baseUrl}model.json`);
  const classes = [...card.classes].sort((a, b) => a.index - b.index).map((c) => c.name);
  const calibration = card.calibration || {};
  const temperature = calibration.temperature ?? 1;
  const threshold = calibration.threshold ?? 0.6; // predictor.DEFAULT_THRESHOLD

  function predict(batch) {
    const count = batch.length / PIXELS;
    if (!Number.isInteger(count)) throw new Error(`${batch.length} values: not n x 784`);
    if (count === 0) return [];
    const output = tf.tidy(() => model.predict(tf.tensor4d(batch, [count, 28, 28, 1])));
    const flat = output.dataSync();
    output.dispose();
    const width = classes.length;
    return Array.from({ length: count }, (_, i) =>
      soften(Float32Array.from(flat.subarray(i * width, (i + 1) * width)), temperature),
    );
  }

  return { card, classes, temperature, threshold, backend: tf.getBackend(), predict };
}

/** The k most probable classes, best first: [{index, name, probability}]. */
export function topClasses(probabilities, classes, k = 3) {
  return Array.from(probabilities, (probability, index) => ({ index, name: classes[index], probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}
