from django.apps import AppConfig


class ClassifierConfig(AppConfig):
    """Registered only so that Celery finds ``classifier.tasks``; the package has no models."""

    name = "classifier"
