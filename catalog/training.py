"""Retraining on the store's own photos: the services behind the admin's Model page.

The store's labelled photos (products whose category a person set or confirmed) are written out
as a folder per category, ``ml_training.finetune`` trains a new model on them as a subprocess
(the store itself imports no TensorFlow), and a ``TrainingRun`` row follows it: progress per
epoch, the last lines of its output, the run folder and its metrics. Promotion stays a person's
step: ``python -m ml_training.export RUN_DIR --flip-averaging`` refuses a model worse than the
served one, then ``manage.py sync_model_classes`` gives new classes their categories.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import queue
import re
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image

from catalog import selectors
from catalog.models import Category, TrainingRun
from classifier import preprocess

logger = logging.getLogger(__name__)

MANIFEST_FIELDS = ("path", "product_id", "category", "classifier_label", "source", "exported_at")
LOG_TAIL_LINES = 60
SAVE_EVERY_S = 10  # the log tail and a heartbeat, output or not; epochs are saved at once
# A running run not saved for this long has lost the process that ran it (a worker killed, the
# store restarted while it trained in-process): 18 missed heartbeats, not a slow epoch.
STALLED_AFTER = timedelta(minutes=3)
# the share of the progress bar each phase takes: writing the photos, the epochs, the evaluation
EXPORTED, TRAINED = 5, 95
EPOCH_START = re.compile(r"^Epoch (\d+)/(\d+)\s*$")  # Keras prints none for a single epoch
EPOCH_END = re.compile(r"^\s*(\d+)/(\d+) - ")  # Keras (verbose=2): "469/469 - 30s - loss: …"


@dataclass
class PhotoExport:
    written: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)


def training_photos_export(
    *, directory: Path, on_photo: Callable[[int], None] | None = None
) -> PhotoExport:
    """Write every labelled photo as ``directory/<category-slug>/<product-id>.jpg``, plus
    ``manifest.csv``; ``on_photo`` is called with the count written so far after each photo
    (a retraining's heartbeat: thousands of photos take minutes).

    Only what a person filed: the model's own answers are not labels. The photos are written
    upright, transparency on white, as the store decodes an upload; a photo that cannot be read
    is skipped (and reported), not fatal. The layout is that of ``clothing-photos`` (a folder per
    class), named by the store's category slugs.
    """
    directory.mkdir(parents=True, exist_ok=True)
    exported_at = timezone.now().isoformat(timespec="seconds")
    result, rows = PhotoExport(), []
    groups = selectors.category_groups(Category.objects.all())
    for product in selectors.labelled_products().iterator():
        relative = Path(product.category.slug) / f"{product.pk}.jpg"
        try:
            with product.image.open("rb") as fh:
                rgb = preprocess.to_rgb(preprocess.open_photo(fh.read()))
        except (OSError, ValueError) as exc:  # a missing file, an unreadable photo
            result.skipped.append((product.pk, str(exc)))
            continue
        (directory / relative.parent).mkdir(exist_ok=True)
        Image.fromarray(rgb).save(directory / relative, "JPEG", quality=92)
        rows.append(
            {
                "path": relative.as_posix(),
                "product_id": product.pk,
                "category": product.category.slug,
                # a parent filed by hand (Calzado): its sub-categories' classes, "5 7 9"
                "classifier_label": _manifest_label(product.category, groups),
                "source": product.category_source,
                "exported_at": exported_at,
            }
        )
        if on_photo is not None:
            on_photo(len(rows))
    with (directory / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    result.written = len(rows)
    return result


def _manifest_label(category: Category, groups: dict[int, tuple[int, ...]]) -> str:
    if category.classifier_label is not None:
        return str(category.classifier_label)
    return " ".join(str(label) for label in groups.get(category.pk, ()))


def training_run_start(*, created_by: AbstractBaseUser | None) -> TrainingRun:
    """Record a retraining and queue it (after commit) on the ``training`` queue.

    The run is queued even while another is: the training worker takes one at a time. Without
    a broker it starts on a thread once committed (``runs_in_process``).
    """
    run = TrainingRun.objects.create(
        created_by=created_by, examples=selectors.labelled_products().count()
    )
    transaction.on_commit(lambda: _send_retrain_task(run.pk))
    return run


def too_few_examples(examples: int) -> str:
    """Why the Retrain button waits (``RETRAIN_MIN_EXAMPLES``), or "" when it need not."""
    needed = settings.PERCHA["RETRAIN_MIN_EXAMPLES"]
    if examples >= needed:
        return ""
    return ngettext(
        "Retraining needs at least %(needed)d labelled photos; the store has %(count)d. File "
        "more products by hand, or confirm the model's suggestions in the review queue.",
        "Retraining needs at least %(needed)d labelled photos; the store has %(count)d. File "
        "more products by hand, or confirm the model's suggestions in the review queue.",
        needed,
    ) % {"needed": needed, "count": examples}


def runs_in_process() -> bool:
    """Whether a retraining runs in the store's own process: no broker, tasks in-process (the
    store on its embedded defaults)."""
    from classifier.tasks import retrain

    return bool(retrain.app.conf.task_always_eager)


def _send_retrain_task(run_id: int) -> threading.Thread | None:
    """Queue the run, or without a broker start it on a thread of this process, returned so
    that a caller can wait for it."""
    from classifier.tasks import retrain

    if runs_in_process():
        # in-process, the training would hold the admin's request for many minutes; beside
        # it, the Model page follows it as it follows a worker's
        thread = threading.Thread(
            target=_retrain_beside_requests, args=(run_id,), name=f"retrain-{run_id}", daemon=True
        )
        thread.start()
        return thread
    try:
        retrain.delay(run_id)
    except Exception as exc:  # broker down: say so on the run instead of leaving it queued
        logger.warning("could not queue training run %s (%s)", run_id, exc)
        TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.QUEUED).update(
            status=TrainingRun.Status.FAILED,
            message=_("Could not queue the retraining (%(error)s); try again.") % {"error": exc},
            finished_at=timezone.now(),
        )
    return None


def _retrain_beside_requests(run_id: int) -> None:
    from classifier.tasks import retrain

    try:
        retrain.apply(args=[run_id])
    finally:
        connection.close()  # this thread's own connection: nobody else will close it


def training_command(*, photos: Path, base: Path, runs_dir: Path) -> list[str]:
    """The fine-tuning command line: ``PERCHA["FINETUNE_COMMAND"]`` and its inputs; a store
    category with ``NEW_CLASS_MIN_EXAMPLES`` photos and no class becomes a new class."""
    percha = settings.PERCHA
    command = [*percha["FINETUNE_COMMAND"]]
    command += ["--photos", str(photos), "--base", str(base), "--runs-dir", str(runs_dir)]
    command += ["--min-examples", str(percha["NEW_CLASS_MIN_EXAMPLES"])]  # as the page says
    if percha["FASHION_MNIST_DIR"]:
        command += ["--data-dir", str(percha["FASHION_MNIST_DIR"])]
    return command


def run_folder(run: TrainingRun) -> Path:
    """Where a run writes its photos and its run folder: a new folder for each run (ids start
    again with a new database; a run must not mix in another's photos)."""
    stamp = run.created_at.strftime("%Y%m%d-%H%M%S")
    return Path(settings.PERCHA["TRAINING_RUNS_DIR"]) / f"store-{run.pk}-{stamp}"


def training_run_execute(*, run: TrainingRun) -> TrainingRun:
    """Export the photos, run the fine-tuning and record how it went; returns the run.

    Only a queued run is taken (a second delivery of the task finds it running and leaves it).
    The served model's Keras file (``model.keras`` next to ``PERCHA["MODEL_PATH"]``) is the base;
    photos and run folder go to ``run_folder(run)``. Success is the
    command's exit status 0 and a ``metrics.json`` in the run folder it wrote.
    """
    claimed = TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.RUNNING, message=_("Writing the labelled photos…")
    )
    run.refresh_from_db()
    if not claimed:
        return run
    base = Path(settings.PERCHA["MODEL_PATH"]).parent / "model.keras"
    if not base.is_file():
        return _finish(
            run,
            failed=_(
                "%(path)s not found: retraining starts from the served model's Keras file; "
                "export one with `python -m ml_training.export RUN`."
            )
            % {"path": base},
        )
    folder = run_folder(run)
    export = training_photos_export(directory=folder / "photos", on_photo=_heartbeat(run))
    run.examples = export.written
    if not export.written:
        return _finish(
            run,
            failed=_(
                "No labelled photos: file some products by hand (or accept the model's "
                "suggestions) first."
            ),
        )
    message = _("Exported %(count)d photos; training…") % {"count": export.written}
    _save(run, progress=EXPORTED, message=message)
    command = training_command(photos=folder / "photos", base=base, runs_dir=folder)
    try:
        returncode, tail = _follow(run, command)
    except OSError as exc:  # the program itself could not be started
        failed = _("Could not start %(cmd)s (%(error)s).") % {"cmd": command[0], "error": exc}
        return _finish(run, failed=failed)
    if returncode != 0:
        return _finish(
            run,
            failed=_("The training stopped with exit status %(code)d: %(last)s")
            % {"code": returncode, "last": _last_line(tail)},
            tail=tail,
        )
    found = sorted(folder.glob("**/metrics.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        failed = _("The training wrote no metrics.json under %(dir)s.") % {"dir": folder}
        return _finish(run, failed=failed, tail=tail)
    run.run_dir = str(found[-1].parent)
    run.metrics = json.loads(found[-1].read_text())
    return _finish(run, tail=tail)


def _heartbeat(run: TrainingRun) -> Callable[[int], None]:
    """Saves the run with the count of photos written, at most every ``SAVE_EVERY_S``."""
    last_save = time.monotonic()

    def beat(written: int) -> None:
        nonlocal last_save
        if time.monotonic() - last_save > SAVE_EVERY_S:
            message = _("Writing the labelled photos… %(count)d so far") % {"count": written}
            _save(run, progress=run.progress, message=message)
            last_save = time.monotonic()

    return beat


def _follow(run: TrainingRun, command: list[str]) -> tuple[int, list[str]]:
    """Run the command, keeping the run's progress and log tail up to date as it prints, and
    saving the run every ``SAVE_EVERY_S`` even while it prints nothing (an epoch can take
    minutes): a run that stops being saved has lost its process (``stalled_runs_failed``)."""
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
    epoch, epochs, last_save = 0, 1, time.monotonic()
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}  # each line as it is printed
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # TensorFlow's C++ INFO lines: noise
    with subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
        env=environment,
    ) as process:
        for raw in _lines_or_silence(process.stdout, SAVE_EVERY_S):
            if raw is None:  # silence: a heartbeat
                _save(run, progress=run.progress, message=run.message, tail=tail)
                last_save = time.monotonic()
                continue
            line = raw.rstrip()
            tail.append(line)
            progress, message = run.progress, None
            if started := EPOCH_START.match(line):
                epoch, epochs = int(started[1]), int(started[2])
                progress = EXPORTED + (TRAINED - EXPORTED) * (epoch - 1) // epochs
                message = _("Epoch %(epoch)d of %(epochs)d") % {"epoch": epoch, "epochs": epochs}
            elif epoch and (ended := EPOCH_END.match(line)) and ended[1] == ended[2]:
                progress = EXPORTED + (TRAINED - EXPORTED) * epoch // epochs
            elif line.startswith("== "):  # the program's own summaries
                message = line[3:]
            if progress != run.progress or message or time.monotonic() - last_save > SAVE_EVERY_S:
                _save(run, progress=progress, message=message or run.message, tail=tail)
                last_save = time.monotonic()
        return process.wait(), list(tail)


def _lines_or_silence(stream, every_s: float):
    """The stream's lines as they come, and None after each ``every_s`` without one. The lines
    are read on a thread of their own: a read blocks until a whole line has come."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)  # the end

    threading.Thread(target=read, name="training-output", daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=every_s)
        except queue.Empty:
            yield None
            continue
        if line is None:
            return
        yield line


def stalled_runs_failed() -> int:
    """Fail the runs that say "running" but have not been saved for ``STALLED_AFTER``: the
    process running them is gone, and they would say "running" for ever. Returns how many.

    Called by the Model page before it lists the runs: nothing else would notice, as the task
    is acknowledged on receipt and never delivered again.
    """
    cutoff = timezone.now() - STALLED_AFTER
    return TrainingRun.objects.filter(
        status=TrainingRun.Status.RUNNING, updated_at__lt=cutoff
    ).update(
        status=TrainingRun.Status.FAILED,
        message=_(
            "No news from this retraining for %(minutes)d minutes: the process running it "
            "stopped (a worker or the store restarted). Start another."
        )
        % {"minutes": STALLED_AFTER // timedelta(minutes=1)},
        finished_at=timezone.now(),
    )


def _save(
    run: TrainingRun,
    *,
    progress: int,
    message: str,
    tail: deque[str] | list[str] | None = None,
    fields: tuple[str, ...] = (),
) -> None:
    if not connection.in_atomic_block:  # a training is long: the connection may have gone
        close_old_connections()
    run.progress, run.message = min(progress, 100), message[:500]
    if tail is not None:
        run.log_tail = "\n".join(tail)
        fields += ("log_tail",)
    run.save(update_fields=["progress", "message", "updated_at", *fields])


def _last_line(tail: deque[str] | list[str]) -> str:
    """The training's last words (its error, mostly), shortened to fit the run's message."""
    last = next((line.strip() for line in reversed(tail) if line.strip()), "")
    return (last[:420] + "…") if len(last) > 420 else last or _("see its last lines")


def _finish(
    run: TrainingRun, *, failed: str = "", tail: deque[str] | list[str] | None = None
) -> TrainingRun:
    """Record the outcome: failed with the reason, or succeeded with the run's figures."""
    if failed:
        run.status, message = TrainingRun.Status.FAILED, failed
    else:
        run.status, run.progress = TrainingRun.Status.SUCCEEDED, 100
        message = _("Finished: %(dir)s") % {"dir": run.run_dir}
    run.finished_at = timezone.now()
    fields = ("status", "examples", "run_dir", "metrics", "finished_at")
    _save(run, progress=run.progress, message=message, tail=tail, fields=fields)
    return run


def promotion_commands(run: TrainingRun) -> list[str]:
    """What a person runs to serve a finished run's model (the page shows it; nothing here
    promotes): the export refuses a model worse than the served one."""
    return [
        f"python -m ml_training.export {run.run_dir} --flip-averaging",
        "python manage.py sync_model_classes",
        "python manage.py classify_pending --all",
    ]
