"""Training code for the Percha clothing classifier (plain Python + TensorFlow, no Django)."""

import os

# TensorFlow's oneDNN kernels. TensorFlow turns them on by itself only on CPUs with AVX-512 VNNI
# or newer; on an AVX2 CPU (this project's AMD EPYC machines) they halve a training step
# (`python -m benchmarks.training`). Set before any module here imports TensorFlow; an explicit
# TF_ENABLE_ONEDNN_OPTS=0 in the environment still wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
