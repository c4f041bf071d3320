// What the classifier page and the admin's preview share: waiting for the vendored runtimes
// (TensorFlow.js and OpenCV.js, loaded by <script> tags from static/vendor/), one photo through
// the same conversion as the server (preprocess.js) and the model (model.js), and drawing the
// 28x28 input the model saw.
import { decodePhoto, toModelInput } from "./preprocess.js";
import { loadClassifier } from "./model.js";

function waitFor(test, what, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    (function poll() {
      if (test()) return resolve();
      if (performance.now() - started > timeoutMs) return reject(new Error(`${what} did not load`));
      setTimeout(poll, 25);
    })();
  });
}

// OpenCV.js compiles its WebAssembly after the script loads; `cv` is a promise or a module
// object until then, depending on the build. Resolves to nothing on purpose: the Emscripten
// module has a `then` method, so resolving a promise with it (returning it from an async
// function) makes the promise call `then` again forever and hangs the page.
export async function openCvReady() {
  await waitFor(() => window.cv, "OpenCV.js");
  if (window.cv instanceof Promise) window.cv = await window.cv;
  if (!window.cv.Mat) {
    await new Promise((resolve) => {
      const previous = window.cv.onRuntimeInitialized;
      window.cv.onRuntimeInitialized = () => {
        if (previous) previous();
        resolve();
      };
      if (window.cv.Mat) resolve();
    });
  }
}

// Both runtimes and the model, ready to classify; rejects with the reason if one fails.
// `vendorUrl` holds the vendored scripts and the WebAssembly backend's .wasm files.
export async function startClassifier(modelUrl, vendorUrl) {
  await waitFor(() => window.tf, "TensorFlow.js");
  const [model] = await Promise.all([
    loadClassifier(modelUrl, { wasmPath: vendorUrl }),
    openCvReady(),
  ]);
  warmUp(model);
  return model;
}

// One made-up photo through the conversion and the model while the page loads: the first call
// of each compiles and allocates (measured: 187 ms and 31 ms for the first photo, against about
// 30 ms and 6 ms after), which the customer's first photo should not wait for.
function warmUp(model) {
  const side = 64;
  const data = new Uint8Array(side * side * 3).fill(255);
  for (let y = 16; y < 48; y += 1) data.fill(40, (y * side + 20) * 3, (y * side + 44) * 3);
  model.predict(toModelInput({ width: side, height: side, data }).image);
}

// A photo (File or Blob) → { input, probabilities, ms, convertMs, modelMs }. Rejects with the
// preprocessing's error (its `code` names the reason, as classifier/preprocess.py's
// UnreadableImage does).
export async function classifyPhoto(model, photo) {
  const started = performance.now();
  const input = toModelInput(await decodePhoto(photo));
  const converted = performance.now();
  const [probabilities] = model.predict(input.image);
  const done = performance.now();
  return {
    input,
    probabilities,
    ms: done - started,
    convertMs: converted - started,
    modelMs: done - converted,
  };
}

// The 28x28 input as the model sees it, garment bright on black.
export function drawModelInput(canvas, image) {
  const context = canvas.getContext("2d");
  const pixels = context.createImageData(28, 28);
  for (let i = 0; i < 784; i += 1) {
    const value = Math.round(image[i] * 255);
    pixels.data.set([value, value, value, 255], i * 4);
  }
  context.putImageData(pixels, 0, 0);
}

// "%(name)s" / "%(count)d" placeholders (Django's, kept in the translations) and "%%".
// A probability as a percentage in the page's language: "69,8 %" in Spanish, "69.8%" in English.
export function formatPercent(probability, digits = 0) {
  const options = { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits };
  return new Intl.NumberFormat(document.documentElement.lang || undefined, options).format(probability);
}

export function format(template, params = {}) {
  return template
    .replace(/%\((\w+)\)[sdf]/g, (_, key) => (key in params ? String(params[key]) : ""))
    .replace(/%%/g, "%");
}
