// The classifier page ("Clasificador"): choose, drop, paste or photograph a garment; it is
// converted and classified in the browser, and the page shows the 28x28 input, the top three
// classes and the store category. Once loaded it needs no network (nothing is uploaded).
import { classifyPhoto, drawModelInput, format, formatPercent, startClassifier } from "./runtime.js";
import { topClasses } from "./model.js";

const root = document.querySelector("[data-classifier]");
const config = JSON.parse(document.getElementById("classifier-config").textContent);
const say = (key, params) => format(config.messages[key] || key, params);
const status = root.querySelector("[data-status]");
const result = root.querySelector("[data-result]");
const original = root.querySelector("[data-original]");
// a phone's or a tablet's screen: no Ctrl+V, nothing to drop (the CSS hides those hints too)
const touchScreen = window.matchMedia("(hover: none) and (pointer: coarse)");
let originalUrl = null;

function setState(state, message) {
  root.dataset.state = state;
  status.textContent = message;
  status.classList.toggle("is-error", state === "error");
}

// one decimal, none at 99.5% and above or under 0.1%, where a decimal would mislead
function percent(probability) {
  return formatPercent(probability, probability >= 0.995 || probability < 0.001 ? 0 : 1);
}

// On a phone the result card lands below the fold: bring it into view, but leave a page whose
// result is already wholly on screen (a desktop's, mostly) where it is.
function reveal(element) {
  const box = element.getBoundingClientRect();
  if (box.top >= 0 && box.bottom <= window.innerHeight + 1) return; // +1: a fraction of a pixel
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  element.scrollIntoView({ block: "nearest", behavior: still ? "auto" : "smooth" });
}

function verdict(model, best) {
  const known = config.classes[best.index] || { name: best.name, url: "", filed: false };
  const element = document.createElement("span");
  if (best.probability < (config.threshold ?? model.threshold)) {
    element.textContent = say("unsure", { percent: percent(best.probability) });
  } else if (!known.filed) {
    element.textContent = say("not_sold", { name: known.name });
  } else {
    const filed = known.filedAs || known; // a sandal is filed under Calzado: the store's category
    element.textContent = say("confident", { name: filed.name }) + " ";
    if (filed.url) {
      const link = document.createElement("a");
      link.href = filed.url;
      link.textContent = say("see_category", { name: filed.name });
      element.append(link);
    }
  }
  return element;
}

function showResult(model, photo, outcome) {
  if (originalUrl) URL.revokeObjectURL(originalUrl);
  originalUrl = URL.createObjectURL(photo);
  original.src = originalUrl;
  drawModelInput(root.querySelector("[data-model-input]"), outcome.input.image);
  const list = root.querySelector("[data-top]");
  list.replaceChildren();
  const best = topClasses(outcome.probabilities, model.classes, 3);
  for (const entry of best) {
    const name = (config.classes[entry.index] || entry).name;
    const item = document.createElement("li");
    item.dataset.index = entry.index;
    item.innerHTML = '<span class="top-name"></span><span class="top-bar"><span></span></span><span class="top-percent"></span>';
    item.querySelector(".top-name").textContent = name;
    item.querySelector(".top-bar > span").style.width = `${entry.probability * 100}%`;
    item.querySelector(".top-percent").textContent = percent(entry.probability);
    list.append(item);
  }
  root.querySelector("[data-verdict]").replaceChildren(verdict(model, best[0]));
  const ms = Math.round(outcome.ms);
  root.querySelector("[data-timing]").textContent = say("timing", {
    convert: Math.round(outcome.convertMs),
    model: Math.round(outcome.modelMs),
  });
  result.hidden = false;
  setState("done", say("done", { ms }));
  reveal(result);
}

async function classify(ready, photo) {
  if (!photo) {
    setState("error", say("no_photo"));
    return;
  }
  const model = await ready;
  if (!model) return;
  setState("working", say("working"));
  try {
    showResult(model, photo, await classifyPhoto(model, photo));
  } catch (error) {
    result.hidden = true;
    const known = error && error.code && config.messages[error.code];
    const detail = known ? say(error.code, error.params || {}) : String(error.message || error);
    setState("error", say("unreadable", { detail }));
  }
}

function listen(ready) {
  const dropzone = root.querySelector("[data-dropzone]");
  for (const input of root.querySelectorAll("[data-photo-input]")) {
    input.addEventListener("change", () => {
      if (input.files.length) classify(ready, input.files[0]);
      input.value = "";
    });
  }
  dropzone.addEventListener("dragover", (event) => {
    event.preventDefault();
    dropzone.classList.add("is-over");
  });
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("is-over"));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropzone.classList.remove("is-over");
    classify(ready, event.dataTransfer.files[0]);
  });
  dropzone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      root.querySelector("[data-photo-input]").click();
    }
  });
  document.addEventListener("paste", (event) => {
    const files = event.clipboardData ? event.clipboardData.files : [];
    if (files.length) classify(ready, files[0]);
  });
}

setState("loading", say("loading"));
const ready = startClassifier(config.modelUrl, `${config.staticBase}vendor/`).then(
  (model) => {
    setState("ready", say(touchScreen.matches ? "ready_touch" : "ready"));
    return model;
  },
  (error) => {
    setState("error", say("failed", { detail: error.message }));
    return null;
  },
);
listen(ready);
