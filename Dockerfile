# The store's image: web (gunicorn), Celery worker and beat all run it; see docker-compose.yml.
# Runtime dependencies only: the model is served with LiteRT, so no TensorFlow in here.

# The browser's runtime for the classifier page (TensorFlow.js, OpenCV.js), pinned by
# package-lock.json; only the two files the page loads reach the image (no Node.js in it).
FROM node:20-slim AS vendor
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --create-home --uid 10001 percha \
    && mkdir -p /app /data/media \
    && chown percha:percha /app /data/media
WORKDIR /app

# Dependencies first, so editing the code does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=percha:percha . .
COPY --from=vendor --chown=percha:percha \
    /build/node_modules/@tensorflow/tfjs/dist/tf.min.js \
    /build/node_modules/@techstark/opencv-js/dist/opencv.js \
    /build/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js \
    /build/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm \
    /build/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm \
    /build/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm \
    /app/static/vendor/
USER percha

# Static files are baked into the image (whitenoise serves them); the key is a throwaway that
# only lets settings load with DEBUG off, never used at runtime.
RUN DEBUG=false SECRET_KEY=build-only-not-a-secret-collectstatic-0123456789abcdef \
    python manage.py collectstatic --noinput

EXPOSE 8000
CMD ["gunicorn", "shop.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
