"""Where the garment is in a photo: a foreground mask without skin, bed, floor or hanger.

Fashion-MNIST's packshots needed no mask: the background was plain and trimming its colour
was enough. A shop's photos have beds, floors, hangers and the model's arms and legs, which the
model reads as part of the garment (everything came out "Bag"). GrabCut separates the garment
from a textured background; it is seeded from the photo's own border (the border is background,
pixels far from its colours are probably garment) and runs on a small copy, because its cost
grows with the pixel count and a 28x28 input needs little detail. Skin is then taken out, unless
it is most of the mask (then it is more likely a beige garment than a person).
"""

from __future__ import annotations

import cv2
import numpy as np

BORDER = 0.05  # share of each side treated as sure background
ITERATIONS = 2  # GrabCut rounds: the third changed <1% of the mask on the validation photos
SEED_DISTANCE = 12.0  # Lab distance to the border's colours below which a pixel seeds "background"
MIN_SHARE = 0.02  # a mask smaller than this share of the photo is a failure, not a garment
MAX_SKIN_SHARE = 0.5  # above this share of the mask, "skin" is the garment's colour


def _border_pixels(lab: np.ndarray, width: int) -> np.ndarray:
    return np.concatenate(
        [
            lab[:width].reshape(-1, 3),
            lab[-width:].reshape(-1, 3),
            lab[:, :width].reshape(-1, 3),
            lab[:, -width:].reshape(-1, 3),
        ]
    )


def _distance_from_border(lab: np.ndarray, width: int) -> np.ndarray:
    """Each pixel's Lab distance to the nearest of a few colours sampled from the border."""
    border = _border_pixels(lab, width)
    # a handful of representative border colours: the border's quantiles along lightness.
    # A stable sort: numpy's default breaks ties between equal lightness differently with the
    # CPU's instruction set (AVX-512, AVX2, ...), which changed 195 of 341 validation inputs
    # from one server to another; stable is the same everywhere, and what the browser does.
    order = np.argsort(border[:, 0], kind="stable")
    picks = border[order[np.linspace(0, len(order) - 1, 8).astype(int)]]
    flat = lab.reshape(-1, 1, 3)
    distance = np.sqrt(((flat - picks[None]) ** 2).sum(axis=2)).min(axis=1)
    return distance.reshape(lab.shape[:2])


def skin(rgb: np.ndarray) -> np.ndarray:
    """Skin-coloured pixels (the classic YCrCb box), for taking arms and legs out of a mask."""
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    y, cr, cb = ycrcb[..., 0], ycrcb[..., 1], ycrcb[..., 2]
    return (cr >= 138) & (cr <= 173) & (cb >= 77) & (cb <= 127) & (y >= 60)


def _clean(mask: np.ndarray) -> np.ndarray:
    """Drop specks, keep the main garment (and pieces at least a quarter its size), fill holes."""
    kernel = np.ones((3, 3), np.uint8)
    opened = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    if count <= 1:
        return opened.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= areas.max() / 4) + 1
    kept = np.isin(labels, keep).astype(np.uint8)
    # fill holes: whatever background the border cannot reach is inside the garment
    padded = np.pad(kept, 1)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), 1)
    holes = flood[1:-1, 1:-1] == 0
    return kept.astype(bool) | holes


def garment_mask(rgb: np.ndarray, remove_skin: bool = True) -> np.ndarray:
    """A boolean mask of the garment in a small uint8 RGB photo (True = garment)."""
    height, width = rgb.shape[:2]
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    frame = max(1, round(BORDER * min(height, width)))
    distance = _distance_from_border(lab, frame)

    seeds = np.full((height, width), cv2.GC_PR_FGD, np.uint8)
    seeds[distance < SEED_DISTANCE] = cv2.GC_PR_BGD
    seeds[:frame], seeds[-frame:], seeds[:, :frame], seeds[:, -frame:] = (cv2.GC_BGD,) * 4
    mask = seeds == cv2.GC_PR_FGD
    if mask.any():
        background_model = np.zeros((1, 65), np.float64)
        foreground_model = np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(0)  # GrabCut's GMM initialisation uses k-means: same photo, same mask
        cv2.grabCut(
            rgb, seeds, None, background_model, foreground_model, ITERATIONS,
            cv2.GC_INIT_WITH_MASK,
        )  # fmt: skip
        mask = (seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)

    if remove_skin and mask.any():
        skinned = mask & skin(rgb)
        if skinned.sum() <= MAX_SKIN_SHARE * mask.sum():
            mask = mask & ~skinned
    mask = _clean(mask)
    if mask.mean() < MIN_SHARE:  # GrabCut found nothing: whatever differs from the border
        mask = _clean(distance >= SEED_DISTANCE)
    if mask.mean() < MIN_SHARE:  # nothing stands out from the border: use the whole frame
        mask = np.ones((height, width), bool)
    return mask
