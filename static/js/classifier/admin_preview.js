// The admin's product form: as soon as a photo is chosen, the browser shows the category the
// model will most likely pick (the worker still decides, on the server). The runtimes load on
// the first photo, not with the form.
import { classifyPhoto, drawModelInput, format, formatPercent, startClassifier } from "./runtime.js";
import { topClasses } from "./model.js";

let started = null;

function addScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

function start(config) {
  if (!started) {
    started = (async () => {
      const [tfjs, wasmBackend, opencv] = config.vendor;
      if (!window.tf) await addScript(tfjs);
      if (!window.tf.wasm) await addScript(wasmBackend);
      if (!window.cv) await addScript(opencv);
      return startClassifier(config.modelUrl, `${config.staticBase}vendor/`);
    })();
  }
  return started;
}

async function preview(container, config, photo) {
  const text = container.querySelector("p");
  const say = (key, params) => format(config[key] || config.messages[key] || key, params);
  container.hidden = false;
  container.dataset.state = "working";
  text.textContent = say("working");
  try {
    const model = await start(config);
    const outcome = await classifyPhoto(model, photo);
    const [best] = topClasses(outcome.probabilities, model.classes, 1);
    const known = config.classes[best.index] || { name: best.name, filed: false };
    const percent = formatPercent(best.probability);
    const confident = best.probability >= (config.threshold ?? model.threshold);
    drawModelInput(container.querySelector("canvas"), outcome.input.image);
    // filed: the category the store files it under (Calzado for a sandal); else the class, and
    // why it waits: the model is unsure, or sure of a class the store has no category for
    const filed = confident && known.filed;
    const name = filed ? (known.filedAs || known).name : known.name;
    const key = filed ? "guess" : confident ? "guessNoCategory" : "guessUnsure";
    text.textContent = say(key, { name, percent });
    container.dataset.state = "done";
    container.dataset.label = best.index;
  } catch (error) {
    const reason = error && error.code && config.messages[error.code];
    const detail = reason ? say(error.code, error.params || {}) : String(error.message || error);
    text.textContent = say("unreadable", { detail });
    container.dataset.state = "error";
  }
}

// The name a bulk upload would give the photo ("camiseta_roja.jpg" → "Camiseta roja",
// catalog.names.product_name_from_filename), or "" for a name a camera or an app made
// ("IMG_2041.jpg"), matched with the server's own expressions.
export function nameFromFile(filename, cameraFileNames) {
  const stem = filename.replace(/\.[^.]*$/, "");
  const spaced = stem.replace(/[\s_\-.,()~]+/g, " ").trim();
  if (!spaced || cameraFileNames.some((pattern) => new RegExp(`^(?:${pattern})`, "i").test(spaced))) {
    return "";
  }
  const words = stem.replace(/[\s_\-.]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

for (const container of document.querySelectorAll("[data-photo-preview]")) {
  const config = JSON.parse(container.dataset.config);
  const input = document.getElementById(container.dataset.for);
  if (!input) continue;
  const name = input.form && input.form.elements.namedItem("name");
  let filledIn = ""; // the name this page made from the last photo, not one a person typed
  input.addEventListener("change", () => {
    if (!input.files.length) {
      container.hidden = true;
      return;
    }
    preview(container, config, input.files[0]);
    // a name the person has not typed: the file's, as a bulk upload would give it (another
    // photo chosen replaces the name made from the first)
    if (name && (!name.value.trim() || name.value === filledIn)) {
      filledIn = nameFromFile(input.files[0].name, config.cameraFileNames || []);
      name.value = filledIn;
    }
  });
}
