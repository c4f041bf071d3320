"""Storefront URLs; ``catalog:category`` and ``catalog:product`` are what the models link to."""

from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category_detail, name="category"),
    path("p/<slug:slug>/", views.product_detail, name="product"),
    path("buscar/", views.search, name="search"),
    path("clasificador/", views.classifier, name="classifier"),
]
