// A product photo → the model's 28x28 input, in the browser.
//
// This module mirrors classifier/preprocess.py and classifier/garment_mask.py step by step,
// for parity: the model was trained on what the Python pipeline makes of a photo, so the
// browser must make the same of it, or the classifier page would show (and classify) something
// the server never sees. The same OpenCV algorithms run here as OpenCV.js (the global `cv`):
// INTER_AREA resizing, Lab and YCrCb conversions, GrabCut with the same seeds and RNG seed,
// the same morphology and connected components. Where Python leans on numpy or on Python
// itself (argsort, percentile, float32 arithmetic, sums, round-half-to-even), the JS below
// reproduces that arithmetic rather than an "equivalent" one. Each function names the Python
// function it mirrors; keep them in step (tests/classifier/test_web_preprocess.py checks the
// constants and measures the parity in a real Chromium).
//
// Usage: `toModelInput(await decodePhoto(file))` → {image: Float32Array(784)}.
// decodePhoto rejects with an Error whose `code` (and `params`) are those of Python's
// UnreadableImage, i.e. the keys of classifier.preprocess.MESSAGES.

/* global cv */

// classifier/preprocess.py and classifier/garment_mask.py module constants (same names).
export const PARAMETERS = Object.freeze({
  SIDE: 28,
  WORKING_SIDE: 256,
  MASK_SIDE: 96,
  BRIGHT_LEVEL: 0.6,
  MIN_CONTRAST: 0.04,
  GARMENT_FLOOR: 0.1,
  MIN_SIDE: 8,
  DEFAULT_MAX_PIXELS: 40_000_000,
  BORDER: 0.05,
  ITERATIONS: 2,
  SEED_DISTANCE: 12.0,
  MIN_SHARE: 0.02,
  MAX_SKIN_SHARE: 0.5,
});

const P = PARAMETERS;
const f32 = Math.fround;

// ---------------------------------------------------------------------------------------------
// Decoding (mirrors open_photo, _sniff and to_rgb)

// ISO base media files (HEIC, HEIF) start with an "ftyp" box naming these brands.
const HEIF_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"]);

/** An Error carrying Python's UnreadableImage code and params (the page translates them). */
export class UnreadablePhoto extends Error {
  constructor(code, params = {}) {
    super(`${code}${Object.keys(params).length ? " " + JSON.stringify(params) : ""}`);
    this.name = "UnreadablePhoto";
    this.code = code;
    this.params = params;
  }
}

function ascii(bytes, start, end) {
  return String.fromCharCode(...bytes.subarray(start, end));
}

/** Mirrors _sniff: name HEIC from a phone and SVG/HTML text, which would be "not an image". */
function sniff(head) {
  if (ascii(head, 4, 8) === "ftyp" && HEIF_BRANDS.has(ascii(head, 8, 12))) {
    throw new UnreadablePhoto("heic");
  }
  let start = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) start = 3;
  while (start < head.length && " \t\r\n".includes(String.fromCharCode(head[start]))) start++;
  if (head[start] === 0x3c) throw new UnreadablePhoto("markup"); // "<": SVG, HTML, XML
}

/** The format Pillow would report (by magic bytes), or null for what it would not open. */
function formatOf(head) {
  const magic = (text, at = 0) => ascii(head, at, at + text.length) === text;
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "JPEG";
  if (magic("\x89PNG\r\n\x1a\n")) return "PNG";
  if (magic("RIFF") && magic("WEBP", 8)) return "WEBP";
  if (magic("GIF87a") || magic("GIF89a")) return "GIF";
  if (magic("BM")) return "BMP";
  if (magic("II*\x00") || magic("MM\x00*")) return "TIFF";
  if (magic("\x00\x00\x01\x00")) return "ICO"; // the browser decodes these; Python refuses them
  if (magic("ftyp", 4) && ["avif", "avis"].includes(ascii(head, 8, 12))) return "AVIF";
  return null;
}
const ALLOWED_FORMATS = new Set(["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"]);

/** Pillow's draft(): the JPEG is decoded at 1/2, 1/4 or 1/8 when still >= WORKING_SIDE. */
function draftSize(width, height, format) {
  if (format !== "JPEG") return [width, height];
  const scale = Math.min(Math.floor(width / P.WORKING_SIDE), Math.floor(height / P.WORKING_SIDE));
  const s = [8, 4, 2, 1].find((candidate) => scale >= candidate) ?? 1;
  return [Math.floor((width + s - 1) / s), Math.floor((height + s - 1) / s)];
}

/** Mirrors to_rgb's transparency: Pillow's alpha_composite of RGBA over opaque white. */
function flattenOnWhite(rgba, pixels) {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const a = rgba[4 * i + 3];
    for (let c = 0; c < 3; c++) {
      let value = 255;
      if (a === 255) value = rgba[4 * i + c];
      else if (a > 0) {
        // Pillow's AlphaComposite.c with dst = white: coef1 = a << 7, coef2 = (255 - a) << 7
        const tmp = (rgba[4 * i + c] * a + 255 * (255 - a)) * 128 + (0x80 << 7);
        value = (((tmp >>> 8) + tmp) >>> 8) >>> 7;
      }
      rgb[3 * i + c] = value;
    }
  }
  return rgb;
}

function canvasOf(width, height) {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(width, height);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

/**
 * Mirrors open_photo + to_rgb: a File/Blob → upright uint8 RGB flattened on white,
 * {width, height, data: Uint8Array(width * height * 3), workingWidth, workingHeight}.
 * The pixels are the full-size image; working* is the size Python decodes it at (a JPEG of
 * 512 pixels or more is decoded by Pillow's draft() at 1/2, 1/4 or 1/8, in the DCT, which a
 * browser cannot do), so that toModelInput sizes its small copy as Python does. Resizing to the
 * draft size first, then to the small copy, came out further from Python (measured on the 20
 * real test photos enlarged 2.2 and 4.5 times: 7.4/255 mean difference against 6.5/255 when
 * the full image goes straight to the small copy, which is therefore what happens).
 * Rejects with UnreadablePhoto (code = a key of Python's MESSAGES).
 */
export async function decodePhoto(blob) {
  if (!blob || blob.size === 0) throw new UnreadablePhoto("empty");
  const head = new Uint8Array(await blob.slice(0, 512).arrayBuffer());
  sniff(head);
  const format = formatOf(head);
  if (format === null) throw new UnreadablePhoto("not_image");
  if (!ALLOWED_FORMATS.has(format)) throw new UnreadablePhoto("format", { format });
  let bitmap;
  try {
    // EXIF orientation applied (PIL's exif_transpose); no colour management, as in Pillow.
    bitmap = await createImageBitmap(blob, {
      imageOrientation: "from-image",
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
    });
  } catch {
    // Python reads TIFF; Chromium cannot: say so rather than "not an image"
    throw format === "TIFF"
      ? new UnreadablePhoto("format", { format })
      : new UnreadablePhoto("not_image");
  }
  try {
    const { width, height } = bitmap;
    const limit = P.DEFAULT_MAX_PIXELS.toLocaleString(globalThis.document?.documentElement.lang || undefined);
    if (width * height > P.DEFAULT_MAX_PIXELS) {
      throw new UnreadablePhoto("too_many_pixels", { width, height, max_pixels: limit });
    }
    if (Math.min(width, height) < P.MIN_SIDE) {
      throw new UnreadablePhoto("too_small", { width, height, min: P.MIN_SIDE });
    }
    const context = canvasOf(width, height).getContext("2d", { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    const rgba = context.getImageData(0, 0, width, height).data;
    const [workingWidth, workingHeight] = draftSize(width, height, format);
    const data = flattenOnWhite(rgba, width * height);
    return { width, height, data, workingWidth, workingHeight };
  } finally {
    bitmap.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers: OpenCV.js memory, Python's arithmetic

/** Runs body(own), deleting every Mat passed to own() afterwards (OpenCV.js leaks otherwise). */
function withMats(body) {
  const mats = [];
  const own = (mat) => {
    mats.push(mat);
    return mat;
  };
  try {
    return body(own);
  } finally {
    for (const mat of mats) mat.delete();
  }
}

/** Python's round() of a float: half to even. */
export function pyRound(x) {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** numpy's sum of a float array: pairwise summation (float32 when `single`, as numpy does). */
function pairwiseSum(values, start, n, single) {
  const add = single ? (a, b) => f32(a + b) : (a, b) => a + b;
  if (n < 8) {
    let result = 0;
    for (let i = 0; i < n; i++) result = add(result, values[start + i]);
    return result;
  }
  if (n <= 128) {
    const r = Array.from({ length: 8 }, (_, j) => values[start + j]);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = add(r[j], values[start + i + j]);
    }
    let result = add(add(add(r[0], r[1]), add(r[2], r[3])), add(add(r[4], r[5]), add(r[6], r[7])));
    for (; i < n; i++) result = add(result, values[start + i]);
    return result;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  const first = pairwiseSum(values, start, half, single);
  return add(first, pairwiseSum(values, start + half, n - half, single));
}

/** np.percentile(values, q) with numpy's default method ("linear") on float32 values. */
function percentile(values, q) {
  const sorted = Float32Array.from(values).sort();
  const n = sorted.length;
  const virtual = (n - 1) * (q / 100);
  const previous = Math.min(Math.floor(virtual), n - 1);
  const next = Math.min(previous + 1, n - 1);
  const gamma = virtual - previous;
  const [a, b] = [sorted[previous], sorted[next]];
  const difference = f32(b - a);
  // numpy's _lerp, in float32 (gamma is a weak Python float)
  return gamma >= 0.5
    ? f32(b - f32(difference * f32(1 - gamma)))
    : f32(a + f32(difference * f32(gamma)));
}

function rgbMat(rgb) {
  const mat = new cv.Mat(rgb.height, rgb.width, cv.CV_8UC3);
  mat.data.set(rgb.data);
  return mat;
}

function ones3x3() {
  return cv.Mat.ones(3, 3, cv.CV_8U);
}

// ---------------------------------------------------------------------------------------------
// The garment mask (mirrors classifier/garment_mask.py)

/** Mirrors _border_pixels: pixel indices of the frame, in numpy's concatenation order. */
function borderPixels(height, width, frame) {
  const indices = [];
  const block = (top, bottom, left, right) => {
    for (let y = top; y < bottom; y++) {
      for (let x = left; x < right; x++) indices.push(y * width + x);
    }
  };
  block(0, frame, 0, width); // lab[:width]
  block(height - frame, height, 0, width); // lab[-width:]
  block(0, height, 0, frame); // lab[:, :width]
  block(0, height, width - frame, width); // lab[:, -width:]
  return indices;
}

/** Mirrors _distance_from_border: Lab distance (float32) to the nearest of 8 border colours. */
function distanceFromBorder(lab, height, width, frame) {
  const border = borderPixels(height, width, frame);
  // np.argsort by lightness; ties keep their order (numpy's introsort may not: see the tests)
  const order = border.map((_, i) => i).sort((i, j) => lab[3 * border[i]] - lab[3 * border[j]]);
  const step = (order.length - 1) / 7; // np.linspace(0, len - 1, 8).astype(int)
  const picks = Array.from({ length: 8 }, (_, i) => {
    const position = i === 7 ? order.length - 1 : Math.trunc(i * step);
    const pixel = border[order[position]];
    return [lab[3 * pixel], lab[3 * pixel + 1], lab[3 * pixel + 2]];
  });
  const distance = new Float32Array(height * width);
  for (let p = 0; p < height * width; p++) {
    let nearest = Infinity;
    for (const [l, a, b] of picks) {
      // integer Lab values: the float32 sum of squares is exact
      const squares = (lab[3 * p] - l) ** 2 + (lab[3 * p + 1] - a) ** 2 + (lab[3 * p + 2] - b) ** 2;
      nearest = Math.min(nearest, squares);
    }
    distance[p] = Math.sqrt(nearest); // rounded to float32 by the array, as np.sqrt on float32
  }
  return distance;
}

/** Mirrors skin: the classic YCrCb box, 1 where a pixel is skin-coloured. */
function skin(small) {
  return withMats((own) => {
    const ycrcb = own(new cv.Mat());
    cv.cvtColor(small, ycrcb, cv.COLOR_RGB2YCrCb);
    const data = ycrcb.data;
    const result = new Uint8Array(small.rows * small.cols);
    for (let p = 0; p < result.length; p++) {
      const [y, cr, cb] = [data[3 * p], data[3 * p + 1], data[3 * p + 2]];
      result[p] = cr >= 138 && cr <= 173 && cb >= 77 && cb <= 127 && y >= 60 ? 1 : 0;
    }
    return result;
  });
}

/** Mirrors _clean: drop specks, keep the main piece (and those >= 1/4 its size), fill holes. */
function clean(mask, height, width) {
  return withMats((own) => {
    const source = own(new cv.Mat(height, width, cv.CV_8UC1));
    source.data.set(mask);
    const opened = own(new cv.Mat());
    const kernel = own(ones3x3());
    cv.morphologyEx(source, opened, cv.MORPH_OPEN, kernel, new cv.Point(-1, -1), 1,
      cv.BORDER_CONSTANT, cv.morphologyDefaultBorderValue());
    const labels = own(new cv.Mat());
    const stats = own(new cv.Mat());
    const centroids = own(new cv.Mat());
    const count = cv.connectedComponentsWithStats(opened, labels, stats, centroids, 8, cv.CV_32S);
    if (count <= 1) return Uint8Array.from(opened.data);
    const area = (label) => stats.intAt(label, cv.CC_STAT_AREA);
    let largest = 0;
    for (let label = 1; label < count; label++) largest = Math.max(largest, area(label));
    const keep = new Uint8Array(count);
    for (let label = 1; label < count; label++) keep[label] = area(label) >= largest / 4 ? 1 : 0;
    // fill holes: whatever background the border cannot reach is inside the garment
    const padded = own(new cv.Mat(height + 2, width + 2, cv.CV_8UC1, new cv.Scalar(0)));
    const kept = new Uint8Array(height * width);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        kept[y * width + x] = keep[labels.data32S[y * width + x]];
        padded.data[(y + 1) * (width + 2) + x + 1] = kept[y * width + x];
      }
    }
    cv.floodFill(padded, own(new cv.Mat()), new cv.Point(0, 0), new cv.Scalar(1));
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (padded.data[(y + 1) * (width + 2) + x + 1] === 0) kept[y * width + x] = 1;
      }
    }
    return kept;
  });
}

function share(mask) {
  let count = 0;
  for (const value of mask) count += value;
  return count / mask.length;
}

/** Mirrors garment_mask: Uint8Array (1 = garment) over a small CV_8UC3 RGB Mat. */
function garmentMask(small, removeSkin = true) {
  const [height, width] = [small.rows, small.cols];
  const pixels = height * width;
  const lab = withMats((own) => {
    const mat = own(new cv.Mat());
    cv.cvtColor(small, mat, cv.COLOR_RGB2Lab); // 8-bit: L*255/100, a+128, b+128, as cv2 does
    return Uint8Array.from(mat.data);
  });
  const frame = Math.max(1, pyRound(P.BORDER * Math.min(height, width)));
  const distance = distanceFromBorder(lab, height, width, frame);

  let mask = withMats((own) => {
    const seeds = own(new cv.Mat(height, width, cv.CV_8UC1));
    let any = false;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        const inFrame = y < frame || y >= height - frame || x < frame || x >= width - frame;
        let seed = distance[p] < P.SEED_DISTANCE ? cv.GC_PR_BGD : cv.GC_PR_FGD;
        if (inFrame) seed = cv.GC_BGD;
        seeds.data[p] = seed;
        any ||= seed === cv.GC_PR_FGD;
      }
    }
    const result = new Uint8Array(pixels);
    if (!any) return result;
    const background = own(new cv.Mat());
    const foreground = own(new cv.Mat());
    cv.setRNGSeed(0); // GrabCut's GMM initialisation uses k-means: same photo, same mask
    cv.grabCut(small, seeds, new cv.Rect(0, 0, 0, 0), background, foreground, P.ITERATIONS,
      cv.GC_INIT_WITH_MASK);
    for (let p = 0; p < pixels; p++) {
      const seed = seeds.data[p];
      result[p] = seed === cv.GC_FGD || seed === cv.GC_PR_FGD ? 1 : 0;
    }
    return result;
  });

  if (removeSkin && mask.includes(1)) {
    const skinned = skin(small);
    let [inMask, inSkin] = [0, 0];
    for (let p = 0; p < pixels; p++) {
      skinned[p] &= mask[p];
      inMask += mask[p];
      inSkin += skinned[p];
    }
    if (inSkin <= P.MAX_SKIN_SHARE * inMask) {
      for (let p = 0; p < pixels; p++) mask[p] &= 1 - skinned[p];
    }
  }
  mask = clean(mask, height, width);
  if (share(mask) < P.MIN_SHARE) {
    // GrabCut found nothing: whatever differs from the border
    mask = clean(distance.map((d) => (d >= P.SEED_DISTANCE ? 1 : 0)), height, width);
  }
  if (share(mask) < P.MIN_SHARE) mask = new Uint8Array(pixels).fill(1); // the whole frame
  return mask;
}

// ---------------------------------------------------------------------------------------------
// The model input (mirrors classifier/preprocess.py)

/**
 * Mirrors _small_copy: the longest side to `side` with INTER_AREA (a new Mat, caller frees).
 * The size comes from [width, height], the size Python works at (see decodePhoto).
 */
function smallCopy(rgb, side, [width, height] = [rgb.cols, rgb.rows]) {
  const scale = side / Math.max(height, width);
  const size =
    scale >= 1
      ? new cv.Size(width, height)
      : new cv.Size(Math.max(1, pyRound(width * scale)), Math.max(1, pyRound(height * scale)));
  if (size.width === rgb.cols && size.height === rgb.rows) return rgb.clone();
  const small = new cv.Mat();
  cv.resize(rgb, small, size, 0, 0, cv.INTER_AREA);
  return small;
}

/** Mirrors _brightness: negate, lift a dim (light) garment to BRIGHT_LEVEL, floor the mask. */
function brightness(gray, mask, height, width) {
  const negative = gray.map((value) => 1 - value); // float32 array: 1.0 - gray
  const inner = withMats((own) => {
    const source = own(new cv.Mat(height, width, cv.CV_8UC1));
    source.data.set(mask);
    const eroded = own(new cv.Mat());
    cv.erode(source, eroded, own(ones3x3()), new cv.Point(-1, -1), 1, cv.BORDER_CONSTANT,
      cv.morphologyDefaultBorderValue());
    return Uint8Array.from(eroded.data);
  });
  const where = inner.includes(1) ? inner : mask;
  const core = negative.filter((_, p) => where[p]);
  const level = core.length ? percentile(core, 90) : 1.0;
  const gain = Math.max(1.0, P.BRIGHT_LEVEL / Math.max(level, P.MIN_CONTRAST)); // Python floats
  const lift = f32(gain); // negative * gain: numpy casts the Python float to float32
  const floor = f32(P.GARMENT_FLOOR);
  const bright = new Float32Array(height * width);
  for (let p = 0; p < bright.length; p++) {
    if (mask[p]) bright[p] = Math.max(Math.min(Math.max(f32(negative[p] * lift), 0), 1), floor);
  }
  return bright;
}

/** Mirrors _fit_and_centre: longest side to 28, centred by its mass on a black 28x28 canvas. */
function fitAndCentre(garment, height, width) {
  const scale = P.SIDE / Math.max(height, width);
  const size = [Math.max(1, pyRound(width * scale)), Math.max(1, pyRound(height * scale))];
  const small = withMats((own) => {
    const source = own(new cv.Mat(height, width, cv.CV_32FC1));
    source.data32F.set(garment);
    const resized = own(new cv.Mat());
    const interpolation = scale < 1 ? cv.INTER_AREA : cv.INTER_LINEAR;
    cv.resize(source, resized, new cv.Size(size[0], size[1]), 0, 0, interpolation);
    return resized.data32F.map((value) => Math.min(Math.max(value, 0), 1));
  });
  const canvas = new Float32Array(P.SIDE * P.SIDE);
  const total = pairwiseSum(small, 0, small.length, true);
  let top;
  let left;
  if (total > 0) {
    // the centre of mass to the canvas centre, without cutting the garment off
    const rows = Float64Array.from(small, (value, p) => Math.floor(p / size[0]) * value);
    const cols = Float64Array.from(small, (value, p) => (p % size[0]) * value);
    top = pyRound(P.SIDE / 2 - pairwiseSum(rows, 0, rows.length, false) / total - 0.5);
    left = pyRound(P.SIDE / 2 - pairwiseSum(cols, 0, cols.length, false) / total - 0.5);
  } else {
    [top, left] = [Math.floor((P.SIDE - size[1]) / 2), Math.floor((P.SIDE - size[0]) / 2)];
  }
  top = Math.min(Math.max(top, 0), P.SIDE - size[1]);
  left = Math.min(Math.max(left, 0), P.SIDE - size[0]);
  for (let y = 0; y < size[1]; y++) {
    canvas.set(small.subarray(y * size[0], (y + 1) * size[0]), (top + y) * P.SIDE + left);
  }
  return canvas;
}

/**
 * Mirrors rgb_to_model_input: mask, crop, brightness, fit and centre.
 * `rgb` is decodePhoto's result ({width, height, data: Uint8Array RGB, workingWidth and
 * workingHeight optional}) or a CV_8UC3 RGB Mat.
 * Returns {image: Float32Array(784) in [0, 1], row-major 28x28, the garment bright on black}.
 */
export function toModelInput(rgb, { removeSkin = true } = {}) {
  return withMats((own) => {
    const source = rgb instanceof cv.Mat ? rgb : own(rgbMat(rgb));
    const working = [rgb.workingWidth ?? source.cols, rgb.workingHeight ?? source.rows];
    const small = own(smallCopy(source, P.MASK_SIDE, working));
    const [height, width] = [small.rows, small.cols];
    const mask = garmentMask(small, removeSkin);
    const grayMat = own(new cv.Mat());
    cv.cvtColor(small, grayMat, cv.COLOR_RGB2GRAY);
    // the bounding box of the mask (never empty: garmentMask falls back to the whole frame)
    let [top, bottom, left, right] = [height, -1, width, -1];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (mask[y * width + x]) {
          [top, bottom] = [Math.min(top, y), Math.max(bottom, y)];
          [left, right] = [Math.min(left, x), Math.max(right, x)];
        }
      }
    }
    const [cropHeight, cropWidth] = [bottom - top + 1, right - left + 1];
    const gray = new Float32Array(cropHeight * cropWidth);
    const cropMask = new Uint8Array(cropHeight * cropWidth);
    for (let y = 0; y < cropHeight; y++) {
      for (let x = 0; x < cropWidth; x++) {
        const p = (top + y) * width + left + x;
        gray[y * cropWidth + x] = grayMat.data[p] / 255; // float32 / 255.0
        cropMask[y * cropWidth + x] = mask[p];
      }
    }
    const bright = brightness(gray, cropMask, cropHeight, cropWidth);
    const image = fitAndCentre(bright, cropHeight, cropWidth);
    return { image };
  });
}
