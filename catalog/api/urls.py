"""The API under /api/: categories, products, classify, and the OpenAPI schema with its docs."""

from django.urls import path
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from catalog.api import views

app_name = "api"

# Path converters, not regular expressions: the schema then says a product's id is an integer
# (a regex made it a string with a pattern), and a slug a slug.
router = SimpleRouter(use_regex_path=False)
router.register("categories", views.CategoryViewSet, basename="category")
router.register("products", views.ProductViewSet, basename="product")

urlpatterns = [
    *router.urls,
    path("classify/", views.ClassifyView.as_view(), name="classify"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
