"""``python -m benchmarks.training [--images N] [--rounds R]``: training speed, oneDNN off and on.

TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX-512 VNNI and newer;
``ml_training`` turns them on everywhere (``TF_ENABLE_ONEDNN_OPTS=1``, its ``__init__``). This
prints what that is worth on this machine: the production recipe's training step (the network,
AdamW, label smoothing, the "light" augmentation in the ``tf.data`` pipeline), timed over one
epoch of N Fashion-MNIST training images after a warm-up epoch, in a fresh process per
measurement (the switch is read when TensorFlow loads), the two settings alternating.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from benchmarks.measure import cpu_description

TRAIN_IMAGES = 55_000  # Fashion-MNIST's 60,000 less the 5,000 of the validation split


def measure(images: int) -> dict:
    """Seconds per image of one training epoch of the production recipe (in this process), and
    the recipe's epochs."""
    import keras
    import numpy as np

    from benchmarks.serving import FASHION_MNIST_DIR
    from ml_training import architectures, data, train

    dataset = data.load(FASHION_MNIST_DIR, limit=images)
    recipe = train.RECIPES["production"]
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


def in_subprocess(onednn: bool, images: int) -> dict:
    env = {
        **os.environ,
        "TF_ENABLE_ONEDNN_OPTS": "1" if onednn else "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.training", "--child", "--images", str(images)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=6400, help="images per timed epoch")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each setting")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.images)))
        return
    times: dict[bool, list[float]] = {False: [], True: []}
    for round_ in range(args.rounds):
        for onednn in (False, True) if round_ % 2 == 0 else (True, False):
            result = in_subprocess(onednn, args.images)
            times[onednn].append(result["seconds_per_image"])
            print(f"round {round_ + 1}, oneDNN {'on' if onednn else 'off'}: "
                  f"{times[onednn][-1] * 1000:.2f} ms/image", flush=True)  # fmt: skip
    print(
        f"\nproduction recipe, {args.images} images per timed epoch, {args.rounds} rounds, "
        f"{cpu_description()}"
    )
    epochs = result["epochs"]
    print(f"| oneDNN | ms per image (median) | {epochs} epochs of {TRAIN_IMAGES:,} images |")
    print("| --- | ---: | ---: |")
    for onednn in (False, True):
        median = statistics.median(times[onednn])
        minutes = median * TRAIN_IMAGES * epochs / 60
        print(f"| {'on' if onednn else 'off'} | {median * 1000:.2f} | {minutes:.0f} min |")
    ratio = statistics.median(times[False]) / statistics.median(times[True])
    print(f"\noneDNN on is {ratio:.2f}x the speed of off")


if __name__ == "__main__":
    main()
