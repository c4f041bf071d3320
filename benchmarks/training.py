"""``python -m benchmarks.training [--images N] [--rounds R]``: training speed by setting.

TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX-512 VNNI and newer;
``ml_training`` turns them on everywhere (``TF_ENABLE_ONEDNN_OPTS=1``, its ``__init__``), and
trains the production network in mixed bfloat16 where the CPU computes bfloat16 natively
(``train.training_policy``). This prints what each is worth on this machine: the production
recipe's training step (the network, AdamW, label smoothing, the "light" augmentation in the
``tf.data`` pipeline), timed over one epoch of N Fashion-MNIST training images after a warm-up
epoch, in a fresh process per measurement (the oneDNN switch is read when TensorFlow loads),
the settings taking turns.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from benchmarks.measure import cpu_description
from ml_training.hardware import native_bfloat16

TRAIN_IMAGES = 55_000  # Fashion-MNIST's 60,000 less the 5,000 of the validation split


def measure(images: int, precision: str) -> dict:
    """Seconds per image of one training epoch of the production recipe (in this process), and
    the recipe's epochs."""
    import keras
    import numpy as np

    from benchmarks.serving import FASHION_MNIST_DIR
    from ml_training import architectures, data, train

    dataset = data.load(FASHION_MNIST_DIR, limit=images)
    recipe = train.RECIPES["production"]
    with train.dtype_policy(precision):
        model = architectures.production()
    steps = int(np.ceil(images / recipe.batch_size))
    model.compile(
        optimizer=train.optimizer(recipe, steps, recipe.max_epochs),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
    )
    ds = train.make_dataset(
        dataset.train, recipe.batch_size, True, recipe.augment_preset, shuffle=True, one_hot=True
    )
    model.fit(ds, epochs=1, verbose=0)  # traces the step and warms the pipeline
    start = time.perf_counter()
    model.fit(ds, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    return {"seconds_per_image": seconds / len(dataset.train.x), "epochs": recipe.max_epochs}


def in_subprocess(setting: Setting, images: int) -> dict:
    env = {
        **os.environ,
        "TF_ENABLE_ONEDNN_OPTS": "1" if setting.onednn else "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    command = [sys.executable, "-m", "benchmarks.training", "--child", "--images", str(images)]
    out = subprocess.run(
        [*command, "--precision", setting.precision],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


@dataclass(frozen=True)
class Setting:
    onednn: bool
    precision: str

    def __str__(self) -> str:
        return f"oneDNN {'on' if self.onednn else 'off'}, {self.precision}"


def settings() -> list[Setting]:
    """oneDNN off and on in float32, and mixed bfloat16 where this CPU computes it natively."""
    chosen = [Setting(False, "float32"), Setting(True, "float32")]
    if native_bfloat16():
        chosen.append(Setting(True, "mixed_bfloat16"))
    return chosen


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=6400, help="images per timed epoch")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each setting")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.images, args.precision)))
        return
    chosen = settings()
    times: dict[Setting, list[float]] = {setting: [] for setting in chosen}
    for round_ in range(args.rounds):
        shift = round_ % len(chosen)  # each setting takes each place in the order
        for setting in chosen[shift:] + chosen[:shift]:
            result = in_subprocess(setting, args.images)
            times[setting].append(result["seconds_per_image"])
            print(f"round {round_ + 1}, {setting}: {times[setting][-1] * 1000:.2f} ms/image",
                  flush=True)  # fmt: skip
    print(
        f"\nproduction recipe, {args.images} images per timed epoch, {args.rounds} rounds, "
        f"{cpu_description()}"
    )
    epochs = result["epochs"]
    slowest = statistics.median(times[chosen[0]])
    print(f"| setting | ms per image (median) | {epochs} epochs of {TRAIN_IMAGES:,} images "
          f"| speed against {chosen[0]} |")  # fmt: skip
    print("| --- | ---: | ---: | ---: |")
    for setting in chosen:
        median = statistics.median(times[setting])
        minutes = median * TRAIN_IMAGES * epochs / 60
        print(f"| {setting} | {median * 1000:.2f} | {minutes:.0f} min | {slowest / median:.2f}x |")


if __name__ == "__main__":
    main()
