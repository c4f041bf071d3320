"""The static files' storage in production: WhiteNoise's hashed, compressed copies.

Django's manifest storage also rewrites ``sourceMappingURL`` comments in JavaScript and fails
when the map is missing; the vendored TensorFlow.js scripts name source maps (16 MB) that the
store does not ship, so JavaScript is left as it is. CSS references are still hashed.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    patterns = tuple(
        (glob, rules) for glob, rules in CompressedManifestStaticFilesStorage.patterns
        if glob != "*.js"
    )  # fmt: skip
