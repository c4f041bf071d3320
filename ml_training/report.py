"""Collect the run folders into ``reports/results.md``, ``results.json`` and PNG plots.

    python -m ml_training.report [--runs-dir ml_training/runs]

Plots: learning curves of the six course models, the production model's confusion matrix and a
grid of its mistakes. ``reports/discussion.md`` (written by a person, from these figures) is
appended to results.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ml_training import data, evaluate, export  # noqa: E402
from ml_training.architectures import COURSE_MODELS  # noqa: E402
from ml_training.labels import CLASS_NAMES  # noqa: E402
from ml_training.train import RUNS_DIR, run_name  # noqa: E402

REPORTS_DIR = Path(__file__).resolve().parent / "reports"
TARGETS = {"dense": 0.885, "cnn": 0.915, "cnn_dropout": 0.92, "production": 0.945}
BEST_OF_SIX_TARGET = 0.93
COURSE_RUNS = [run_name(m, a) for m in COURSE_MODELS for a in (False, True)]
PRODUCTION_RUN = run_name("production", True)
PHOTOS_RUN = "production-photos"  # ml_training.finetune: the production run taught real photos


def load_runs(runs_dir: Path, reported: Path | None = None) -> dict[str, dict]:
    """The run folders' metrics; a run not trained here is taken from the committed report.

    Run folders stay out of git, so retraining one model (say, the production one) on a fresh
    clone must not drop the other six from the report.
    """
    previous = json.loads(reported.read_text()) if reported and reported.is_file() else {}
    runs = {}
    for name in [*COURSE_RUNS, PRODUCTION_RUN, PHOTOS_RUN]:
        metrics_path = runs_dir / name / "metrics.json"
        if metrics_path.is_file():
            metrics = json.loads(metrics_path.read_text())
            metrics["history"] = json.loads((runs_dir / name / "history.json").read_text())
            runs[name] = metrics
        elif name in previous:
            runs[name] = previous[name]
    return runs


def plot_learning_curves(runs: dict[str, dict], path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharey=True)
    for ax, model in zip(axes, COURSE_MODELS, strict=True):
        for augmented, style in ((False, "-"), (True, "--")):
            name = run_name(model, augmented)
            if name not in runs:
                continue
            hist = runs[name]["history"]
            epochs = np.arange(1, len(hist["accuracy"]) + 1)
            label = "augmented" if augmented else "plain"
            ax.plot(epochs, hist["accuracy"], style, color="tab:blue", label=f"train, {label}")
            ax.plot(epochs, hist["val_accuracy"], style, color="tab:orange", label=f"val, {label}")
        ax.axhline(TARGETS[model], color="grey", lw=0.8, ls=":")
        ax.set_title(model)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy")
    axes[0].set_ylim(0.8, 1.0)
    axes[-1].legend(loc="lower right", fontsize=8)
    fig.suptitle("Fashion-MNIST: training vs validation accuracy (dotted: test-accuracy target)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(confusion: list[list[int]], path: Path, title: str) -> None:
    matrix = np.array(confusion)
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    im = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(10), CLASS_NAMES, rotation=45, ha="right")
    ax.set_yticks(range(10), CLASS_NAMES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(10):
        for j in range(10):
            color = "white" if matrix[i, j] > matrix.max() / 2 else "black"
            ax.text(j, i, matrix[i, j], ha="center", va="center", fontsize=7, color=color)
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_mistakes(
    images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, path: Path, count: int = 40
) -> None:
    predicted = probabilities.argmax(1)
    wrong = np.flatnonzero(predicted != labels)
    # the most confident mistakes first: the ones a shop would notice
    wrong = wrong[np.argsort(-probabilities[wrong, predicted[wrong]])][:count]
    cols = 8
    rows = int(np.ceil(len(wrong) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.9))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, i in zip(np.ravel(axes), wrong, strict=False):
        ax.imshow(images[i], cmap="gray")
        ax.set_title(
            f"{CLASS_NAMES[labels[i]]}\n→ {CLASS_NAMES[predicted[i]]} {probabilities[i].max():.0%}",
            fontsize=7,
        )
    fig.suptitle("Production model: the most confident mistakes on the test set (true → predicted)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def served_views(card: dict) -> str:
    """How the card says the model's answers are averaged, as a clause of the served line."""
    if not card.get("flip_averaging"):
        return ""
    if len(card.get("shifts") or [[0, 0]]) > 1:
        return "averaged over each image, its mirror image and both moved a pixel each way, "
    return "averaged over each image and its mirror image, "


def flip_averaged(run_dir: Path, test: data.Split) -> dict:
    """A run's test figures averaged over each image and its mirror image: how ``export
    --flip-averaging`` serves it, so what the production target is about."""
    model = keras.models.load_model(run_dir / "model.keras", compile=False)
    probabilities = evaluate.served_probabilities(model, test.x)
    metrics = evaluate.classification_metrics(probabilities, test.y)
    return {"test_accuracy": metrics["accuracy"], "test_loss": metrics["loss"]}


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def results_table(runs: dict[str, dict]) -> str:
    header = (
        "| model | augmentation | parameters | epochs (best) | training time | validation acc. "
        "| test acc. | target | test loss | 1 image | 1,000 images |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    rows = []
    for m in runs.values():
        views = [(m.get("label", m["model"]), m["test_accuracy"], m["test_loss"])]
        if "flip_averaged" in m:
            flip = m["flip_averaged"]
            views.append((f"{m['model']} (flip-averaged, as exported)", *flip.values()))
        for label, accuracy, loss in views:
            target = TARGETS[m["model"]]
            ok = "✅" if accuracy >= target else "❌"
            rows.append(
                f"| {label} | {'yes' if m['augmented'] else 'no'} | {m['parameters']:,} "
                f"| {m['epochs_run']} ({m['best_epoch']}) | {m['train_seconds'] / 60:.1f} min "
                f"| {_pct(m['validation_accuracy'])} | **{_pct(accuracy)}** "
                f"| {ok} ≥ {_pct(target)} | {loss:.3f} "
                f"| {m['inference']['single_image_ms']:.2f} ms "
                f"| {m['inference']['batch_1000_ms']:.0f} ms |"
            )
    return header + "\n".join(rows) + "\n"


def per_class_table(runs: dict[str, dict]) -> str:
    header = "| class | " + " | ".join(runs) + " |\n| --- |" + " ---: |" * len(runs) + "\n"
    rows = [
        f"| {cls} | "
        + " | ".join(f"{100 * m['per_class_accuracy'][cls]:.1f}" for m in runs.values())
        + " |"
        for cls in CLASS_NAMES
    ]
    return header + "\n".join(rows) + "\n"


def write_report(runs_dir: Path = RUNS_DIR, out_dir: Path = REPORTS_DIR, data_dir=None) -> Path:
    runs = load_runs(runs_dir, out_dir / "results.json")
    if not runs:
        raise SystemExit(
            f"no finished runs in {runs_dir}; train first (python -m ml_training.train)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_learning_curves(runs, out_dir / "learning_curves.png")
    figures = ["![learning curves](learning_curves.png)"]
    if PRODUCTION_RUN in runs:
        prod = runs[PRODUCTION_RUN]
        plot_confusion(
            prod["confusion_matrix"],
            out_dir / "confusion_matrix.png",
            f"Production model on the test set ({_pct(prod['test_accuracy'])})",
        )
        figures.append("![confusion matrix](confusion_matrix.png)")
        probabilities_path = runs_dir / PRODUCTION_RUN / "test_probabilities.npy"
        if probabilities_path.is_file():  # trained here, not taken from the committed report
            test = data.load(data_dir).test
            probabilities = np.load(probabilities_path)
            plot_mistakes(test.x[..., 0], test.y, probabilities, out_dir / "mistakes.png")
            prod["flip_averaged"] = flip_averaged(runs_dir / PRODUCTION_RUN, test)
        figures.append("![mistakes](mistakes.png)")

    slim = {name: {k: v for k, v in m.items() if k != "history"} for name, m in runs.items()}
    for name, m in runs.items():
        slim[name]["history"] = m["history"]
    (out_dir / "results.json").write_text(json.dumps(slim, indent=1) + "\n")

    course = [m for name, m in runs.items() if name in COURSE_RUNS]
    best = max(course, key=lambda m: m["test_accuracy"]) if course else None
    best_line = (
        f"Best of the six: {best['run']}, {_pct(best['test_accuracy'])} "
        f"({'✅' if best['test_accuracy'] >= BEST_OF_SIX_TARGET else '❌'} target "
        f"≥ {_pct(BEST_OF_SIX_TARGET)}).\n\n"
        if best
        else ""
    )
    card_path = export.ARTIFACTS_DIR / "model_card.json"
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    served_line = (
        f"The store serves `{card['version']}` (`classifier/artifacts/`): the production run "
        + ("fine-tuned on real photos, " if card.get("run") == PHOTOS_RUN else "")
        + served_views(card)
        + f"{_pct(card['metrics']['test_accuracy'])} on the test set "
        f"({'✅' if card['metrics']['test_accuracy'] >= TARGETS['production'] else '❌'} target "
        f"≥ {_pct(TARGETS['production'])}).\n\n"
        if card.get("run") in (PRODUCTION_RUN, PHOTOS_RUN)
        else ""
    )
    discussion = out_dir / "discussion.md"
    text = (
        "# Fashion-MNIST: the six course models and the production model\n\n"
        "All figures on the 10,000-image test set, which no model saw while training or early "
        "stopping (a seeded 5,000-image validation split of the training set was used for that). "
        "Trained on this project's CI-sized machine (2 CPU cores, no GPU), "
        "TensorFlow " + next(iter(runs.values()))["tensorflow"] + ".\n\n"
        "Reproduce:\n\n```sh\nmake install-dev\n"
        "python -m ml_training.train --all --data-dir ../shared/datasets/fashion-mnist\n"
        "python -m ml_training.train --production --data-dir ../shared/datasets/fashion-mnist\n"
        "python -m ml_training.export ml_training/runs/production-augmented --flip-averaging "
        "--no-web --out ml_training/models/production-fashion-mnist\n"
        "python -m ml_training.report\n"
        "python -m ml_training.finetune --photos ../shared/datasets/clothing-photos/train "
        "--base ml_training/runs/production-augmented/model.keras\n"
        "python -m ml_training.export ml_training/runs/production-photos --flip-averaging\n"
        "```\n\n"
        "## Results\n\n"
        + results_table(runs)
        + "\n"
        + best_line
        + served_line
        + "Inference times: median of a compiled call (`tf.function`) on one image and on a batch "
        "of 1,000, warm, on the same machine.\n\n"
        "## Per-class test accuracy (%)\n\n" + per_class_table(runs) + "\n"
        "## Plots\n\n"
        + "\n\n".join(figures)
        + "\n\n"
        + (discussion.read_text() if discussion.is_file() else "")
    )
    path = out_dir / "results.md"
    path.write_text(text)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write ml_training/reports/ from the run folders")
    parser.add_argument("--runs-dir", type=Path, default=RUNS_DIR)
    parser.add_argument("--out", type=Path, default=REPORTS_DIR)
    parser.add_argument("--data-dir", help="Fashion-MNIST folder (else FASHION_MNIST_DIR)")
    args = parser.parse_args(argv)
    print(f"wrote {write_report(args.runs_dir, args.out, args.data_dir)}")


if __name__ == "__main__":
    main()
