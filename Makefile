# Percha: the store, its tests and its model. `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FASHION_MNIST_DIR ?= $(abspath ../shared/datasets/fashion-mnist)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
CLOTHING_PHOTOS_DIR ?= $(abspath ../shared/datasets/clothing-photos)
export FASHION_MNIST_DIR

.PHONY: help vendor publish screenshots install install-dev run test test-fast lint bench bench-training train train-production finetune export web-export-env export-web evaluate-photos report worker training-worker clean

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The browser's runtime (TensorFlow.js, OpenCV.js) from npm, pinned by package-lock.json and
# copied into static/vendor/ (no CDN: the store works on a closed network).
TFJS_WASM := node_modules/@tensorflow/tfjs-backend-wasm/dist
VENDOR_FILES := node_modules/@tensorflow/tfjs/dist/tf.min.js node_modules/@techstark/opencv-js/dist/opencv.js \
	$(TFJS_WASM)/tf-backend-wasm.min.js $(TFJS_WASM)/tfjs-backend-wasm.wasm \
	$(TFJS_WASM)/tfjs-backend-wasm-simd.wasm $(TFJS_WASM)/tfjs-backend-wasm-threaded-simd.wasm

static/vendor/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp $(VENDOR_FILES) static/vendor/
	touch $@

vendor: static/vendor/.installed ## the browser's JavaScript runtime from npm into static/vendor/

install: $(BIN)/python vendor ## the store's runtime dependencies
	$(BIN)/pip install -q -r requirements.txt

install-dev: $(BIN)/python vendor ## runtime + training, tests, lint
	$(BIN)/pip install -q -r requirements-dev.txt

run: install ## run the store on embedded defaults (SQLite, in-process tasks, committed model)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_demo_admin
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install-dev ## the whole test suite on PostgreSQL, Redis and a real worker
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_BROKER_URL=$(TEST_BROKER_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: ## the one-minute loop: everything but the slow tests
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

screenshots: install-dev ## the README's screenshots, taken by the browser tests (docs/screenshots/)
	PERCHA_SCREENSHOTS=1 DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest -m browser -k "screenshot or classifier or product_form" $(PYTEST_ARGS)

lint: ## ruff
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: ## the serving/store benchmark table (needs PostgreSQL, Redis, wrk; BENCH_ARGS=--quick)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

bench-training: ## training speed of the production recipe, TensorFlow's oneDNN off and on
	$(BIN)/python -m benchmarks.training

train: ## the six course models (dense, cnn, cnn_dropout) x (plain, augmented)
	$(BIN)/python -m ml_training.train --all

train-production: ## the store's model
	$(BIN)/python -m ml_training.train --production

finetune: ## the store's model: the committed production model taught real photos
	$(BIN)/python -m ml_training.finetune --photos $(CLOTHING_PHOTOS_DIR)/train

export: web-export-env ## promote the fine-tuned run into classifier/artifacts/ (web/ included)
	$(BIN)/python -m ml_training.export ml_training/runs/production-photos --flip-averaging

# The TensorFlow.js converter needs TensorFlow 2.19, which clashes with the project's 2.21: it
# gets a virtualenv of its own, rebuilt when requirements-web-export.txt changes.
WEB_VENV := .venv-web

$(WEB_VENV)/.installed: requirements-web-export.txt
	rm -rf $(WEB_VENV)
	$(PYTHON) -m venv $(WEB_VENV)
	$(WEB_VENV)/bin/pip install -q --upgrade pip
	$(WEB_VENV)/bin/pip install -q -r requirements-web-export.txt
	touch $@

web-export-env: $(WEB_VENV)/.installed ## the TensorFlow.js converter's own virtualenv (.venv-web)

export-web: web-export-env ## the served model again into classifier/artifacts/web/ (TensorFlow.js)
	$(BIN)/python -m ml_training.export_web

evaluate-photos: ## the served model on real photos → ml_training/reports/real_photos.md
	$(BIN)/python -m classifier.evaluate_photos $(CLOTHING_PHOTOS_DIR)/validation --report ml_training/reports

publish: install vendor ## the classifier page as a static folder to publish (dist/clasificador)
	$(BIN)/python manage.py build_classifier_page dist/clasificador

report: ## results.md, results.json and the plots from the run folders
	$(BIN)/python -m ml_training.report

worker: ## a Celery worker (needs CELERY_BROKER_URL)
	$(BIN)/celery -A shop worker -l info

training-worker: install-dev ## the retraining worker: the training queue, with TensorFlow (needs CELERY_BROKER_URL)
	$(BIN)/celery -A shop worker -Q training --concurrency 1 -l info

clean:
	rm -rf $(VENV) $(WEB_VENV) staticfiles .pytest_cache static/vendor dist
