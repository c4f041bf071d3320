"""URLs: storefront under the language prefix-free paths, the admin, the API and its docs."""

import re

from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path

from catalog.photos import serve_media
from catalog.seo import SITEMAPS, robots_txt

handler400 = "shop.errors.bad_request"
handler404 = "shop.errors.not_found"
handler500 = "shop.errors.server_error"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("catalog.api.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots"),
    path("", include("catalog.urls")),
]
if settings.STORAGE_BACKEND == "filesystem" and not settings.MEDIA_URL.startswith("http"):
    # Photos on the local disk are served by the app, as images only (catalog.photos); a bucket
    # (STORAGE_BACKEND=s3) serves its own.
    urlpatterns += [
        re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.+)$", serve_media),
    ]
