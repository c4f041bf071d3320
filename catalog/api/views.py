"""The REST API: thin adapters from HTTP to catalog.selectors (reads) and catalog.services (writes).

Anyone reads what the shop shows (published, filed products); staff read everything and write,
with a session (CSRF enforced) or a token. Uploads answer 202: the product is saved at once and
classified after the transaction commits, so clients poll ``status_url``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import translation
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

import classifier
from catalog import cache as catalog_cache
from catalog import selectors, services
from catalog.api import serializers as s
from catalog.api.errors import ErrorSerializer
from catalog.api.permissions import IsStaffOrReadOnly, is_staff
from catalog.api.throttles import ClassifyAnonThrottle, ClassifyThrottled
from catalog.models import Category, Product
from catalog.photos import photo_error_message, upload_digest, validated_photo
from classifier.predictor import ModelUnavailable

logger = logging.getLogger(__name__)

# Token first: its WWW-Authenticate header turns "not signed in" into 401 rather than 403.
AUTHENTICATION = [TokenAuthentication, SessionAuthentication]

UNAUTHENTICATED = OpenApiResponse(
    ErrorSerializer, description="Not signed in: send a staff token or session."
)
FORBIDDEN = OpenApiResponse(
    ErrorSerializer, description="Signed in but not staff, or the CSRF token is missing."
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such product, or it is not published.")
UNSUPPORTED = OpenApiResponse(
    ErrorSerializer, description="The body is not in a media type this endpoint reads."
)
BAD_PHOTO = OpenApiResponse(description='Invalid input, e.g. {"image": ["the file is empty; …"]}.')
LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    response=[202],
    description="Where to poll the classification: GET /api/products/{id}/status/.",
)


# GET /api/products/ parameters whose answers are cached (not search: free text).
LIST_CACHED_PARAMS = frozenset({"category", "status", "ordering", "page", "page_size"})


def plain(data: Any) -> Any:
    """Serialized data as plain dicts, lists and strings, to be cached: DRF's ReturnDict and
    Hyperlink (a str that holds the model instance it links to) do not pickle back."""
    if isinstance(data, dict):
        return {k: plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    if isinstance(data, str):
        return str(data)
    return data


class ClassifierUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _(
        "The garment classifier is not available on this server right now; try again in a few "
        "minutes. Staff: the server log names the model file that could not be loaded."
    )
    default_code = "classifier_unavailable"
    wait = 60  # DRF's exception handler sends it as Retry-After


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The product is not in a state that allows this.")
    default_code = "conflict"


@contextmanager
def service_errors(field: str = "image") -> Iterator[None]:
    """A service's ValidationError as a 400; messages without a field belong to ``field``."""
    try:
        yield
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {field: exc.messages}
        raise ValidationError(detail) from None


class CategoryViewSet(GenericViewSet):
    """The category tree with customer-visible product counts; read-only."""

    queryset = Category.objects.all()  # names the lookup for the schema; data comes from selectors
    serializer_class = s.CategorySerializer
    lookup_field = "slug"
    lookup_value_converter = "slug"
    pagination_class = None
    filter_backends: list = []
    authentication_classes = AUTHENTICATION
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(summary="The category tree", responses=s.CategorySerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(self.get_serializer(catalog_cache.category_tree(), many=True).data)

    @extend_schema(
        summary="One category with its sub-categories",
        description="A category by its slug, with its sub-categories and the number of "
        "products customers see in each.",
        responses={200: s.CategorySerializer, 404: OpenApiResponse(description="No such slug.")},
    )
    def retrieve(self, request: Request, slug: str) -> Response:
        category = selectors.tree_node(catalog_cache.category_tree(), slug)
        if category is None:
            raise NotFound(s.UNKNOWN_CATEGORY.format(value=slug))
        return Response(self.get_serializer(category).data)


class ProductViewSet(GenericViewSet):
    """Products. Non-staff see only what the shop shows; unpublished products are 404 to them."""

    serializer_class = s.ProductSerializer
    lookup_value_converter = "int"
    filter_backends: list = []  # selectors.product_list filters; the params are validated below
    authentication_classes = AUTHENTICATION
    permission_classes = [IsStaffOrReadOnly]

    def get_object(self) -> Product:
        """The URL's product; else a 404 in the caller's language (DRF's own names the model)."""
        try:
            return super().get_object()
        except Http404:
            raise NotFound(s.NO_PRODUCT.format(value=self.kwargs[self.lookup_field])) from None

    def get_queryset(self) -> QuerySet[Product]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Product.objects.none()
        return selectors.product_list(published_only=not is_staff(self.request))

    def fresh(self, product: Product) -> Product:
        """Read the product again: an in-process classification may have changed the row."""
        return selectors.product_list(published_only=False).get(pk=product.pk)

    def product_response(self, product: Product, code: int = status.HTTP_200_OK) -> Response:
        data = s.ProductSerializer(product, context=self.get_serializer_context()).data
        # str(): the URL is DRF's Hyperlink, a str subclass that WSGI servers (runserver's
        # wsgiref among them) refuse as a header value, answering 500 to every upload.
        headers = (
            {"Location": str(data["status_url"])} if code == status.HTTP_202_ACCEPTED else None
        )
        return Response(data, status=code, headers=headers)

    @extend_schema(
        summary="List products",
        description="A page of products, newest first unless ordered otherwise. Non-staff "
        "callers see the products customers see (published and filed); staff see every "
        "product and may filter by classification status.",
        parameters=[s.ProductListParamsSerializer],
        responses={
            200: s.ProductSerializer(many=True),
            400: OpenApiResponse(description="Bad filter."),
            404: OpenApiResponse(description="No such page (past the last, or not a number)."),
        },
    )
    def list(self, request: Request) -> Response:
        # What non-staff callers get is cached under the catalog version (catalog/cache.py): it
        # is the same for all of them in a language.
        cache_key = self.list_cache_key(request)
        if cache_key is not None and (data := cache.get(cache_key)) is not None:
            return Response(data)
        params = s.ProductListParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data
        products = selectors.product_list(
            published_only=not is_staff(request),
            category=query.get("category"),
            search=query.get("search", ""),
            status=query.get("status", ""),
            sort=query["ordering"] or "newest",
        )
        page = self.paginate_queryset(products)
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        if cache_key is not None:
            timeout = settings.PERCHA["CATALOG_CACHE_SECONDS"]
            cache.set(cache_key, plain(response.data), timeout=timeout)
        return response

    def list_cache_key(self, request: Request) -> str | None:
        """The list's cache key, or None to build it afresh: for staff (who see unpublished
        products), and for a search or a parameter outside the short list, so that made-up
        query strings cannot fill the cache with one-off pages. The links in the answer are
        absolute, hence the scheme and host in the key."""
        query = request.query_params
        if is_staff(request) or not catalog_cache.cacheable_query(query, LIST_CACHED_PARAMS):
            return None
        return catalog_cache.key(
            "api-products",
            get_language(),
            request.build_absolute_uri("/"),
            self.paginator.page_size,
            *(query.get(k, "") for k in sorted(LIST_CACHED_PARAMS)),
        )

    @extend_schema(
        summary="One product",
        description="A product as the store shows it; 404 to non-staff callers for a product "
        "customers do not see (unpublished, or not filed yet).",
        responses={200: s.ProductSerializer, 404: NOT_FOUND},
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        return self.product_response(self.get_object())

    @extend_schema(
        summary="Upload a product (staff)",
        description="Saves the product as pending and classifies its photo in the background. "
        "Poll the Location / status_url until classification_status is no longer pending.",
        request={"multipart/form-data": s.ProductCreateSerializer},
        parameters=[LOCATION],
        responses={
            202: s.ProductSerializer,
            400: BAD_PHOTO,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            409: OpenApiResponse(
                s.DuplicatePhotoSerializer,
                description="code duplicate_photo: a product already has this photo.",
            ),
            415: UNSUPPORTED,
        },
    )
    def create(self, request: Request) -> Response:
        payload = s.ProductCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if not data.pop("duplicate"):
            existing = selectors.product_with_photo(upload_digest(data["image"]))
            if existing is not None:
                return self.duplicate_response(existing)
        with service_errors("image"):
            product = services.product_create(**data)
        return self.product_response(self.fresh(product), status.HTTP_202_ACCEPTED)

    def duplicate_response(self, existing: Product) -> Response:
        """409, naming the product that has the photo: as bulk uploads and imports skip it."""
        message = gettext(
            "Product %(id)s (“%(name)s”) already has this photo; send duplicate=true to create "
            "another one anyway."
        )
        url = self.reverse_action("detail", args=[existing.pk])
        body = {
            "detail": message % {"id": existing.pk, "name": existing.name},
            "code": "duplicate_photo",
            "product": existing.pk,
            "product_url": url,
        }
        return Response(body, status=status.HTTP_409_CONFLICT)

    @extend_schema(
        summary="Edit name, description, price or publication (staff)",
        description="Only the fields sent change. A published product needs a price above 0.",
        request=s.ProductUpdateSerializer,
        responses={
            200: s.ProductSerializer,
            400: OpenApiResponse(description="Invalid value or a field that cannot be edited."),
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            415: UNSUPPORTED,
        },
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        payload = s.ProductUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        with service_errors("non_field_errors"):
            product = services.product_update(product=product, data=payload.validated_data)
        return self.product_response(product)

    @extend_schema(
        summary="Delete a product and its photos (staff)",
        description="The product and its photo files are removed for good.",
        responses={204: None, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        services.products_delete(products=[self.get_object()])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Classification status (poll after an upload)",
        description="Where the model's answer stands: pending until the worker has classified "
        "the photo, then classified (filed) or needs_review (waiting for a person), or failed "
        "(the photo cannot be read; staff see why in classification_error).",
        responses={200: s.ProductStatusSerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path="status", url_name="status")
    def classification_status(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        return Response(s.ProductStatusSerializer(product, context={"request": request}).data)

    @extend_schema(
        summary="File the product under a category, or clear it (staff)",
        description="A person's choice: the model will not change it afterwards.",
        request=s.ProductCategorySerializer,
        responses={
            200: s.ProductSerializer,
            400: OpenApiResponse(description="Unknown category slug."),
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            415: UNSUPPORTED,
        },
    )
    @action(detail=True, methods=["post"], url_path="category", url_name="category")
    def set_category(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        payload = s.ProductCategorySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors("category"):
            product = services.product_set_category(
                product=product, category=payload.validated_data["category"]
            )
        return self.product_response(self.fresh(product))

    @extend_schema(
        summary="Run the model again (staff)",
        description="A category set by a person stays as it is.",
        request=None,
        parameters=[LOCATION],
        responses={202: s.ProductSerializer, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="reclassify", url_name="reclassify")
    def reclassify(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        services.products_reclassify(products=[product])
        return self.product_response(self.fresh(product), status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Accept the model's suggested category (staff)",
        description="Files the product where the model's suggestion would file it, as a "
        "person's choice.",
        request=None,
        responses={
            200: s.ProductSerializer,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(
                ErrorSerializer,
                description="code photo_unreadable, not_classified (not yet), or no_category "
                "(the suggested class has none).",
            ),
        },
    )
    @action(
        detail=True, methods=["post"], url_path="accept-suggestion", url_name="accept-suggestion"
    )
    def accept_suggestion(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        label = product.predicted_label
        if product.classification_status == Product.Status.FAILED:
            raise Conflict(
                gettext(
                    "The model could not read this product's photo (%(reason)s); choose a "
                    "category with POST /api/products/%(id)s/category/."
                )
                % {"reason": product.classification_error, "id": product.pk},
                code="photo_unreadable",
            )
        if label is None:
            raise Conflict(
                gettext(
                    "The model has not classified this product yet (%(status)s); wait for it, or "
                    "choose a category with POST /api/products/%(id)s/category/."
                )
                % {"status": product.get_classification_status_display(), "id": product.pk},
                code="not_classified",
            )
        if selectors.filing_categories({label}).get(label) is None:
            raise Conflict(
                gettext(
                    "The model suggests %(class)s, which has no category in the store; choose "
                    "one with POST /api/products/%(id)s/category/, or create a category for "
                    "that class."
                )
                % {"class": selectors.class_name(label), "id": product.pk},
                code="no_category",
            )
        return self.product_response(
            self.fresh(services.product_accept_suggestion(product=product))
        )


class ClassifyView(APIView):
    """Try the model on a photo; nothing is stored. Open to all, anonymous callers rate-limited."""

    authentication_classes = AUTHENTICATION
    permission_classes = [AllowAny]
    throttle_classes = [ClassifyAnonThrottle]
    parser_classes = [MultiPartParser, FormParser]

    def throttled(self, request: Request, wait: float | None) -> Any:
        raise ClassifyThrottled(wait)

    @extend_schema(
        summary="Classify a photo without saving it",
        request={"multipart/form-data": s.PhotoSerializer},
        responses={
            200: s.ClassificationSerializer,
            400: BAD_PHOTO,
            415: UNSUPPORTED,
            429: OpenApiResponse(
                ErrorSerializer, description="Too many anonymous requests; see Retry-After."
            ),
            503: OpenApiResponse(
                ErrorSerializer, description="The model cannot be loaded; see Retry-After."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        payload = s.PhotoSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors("image"):
            photo = validated_photo(payload.validated_data["image"])
        percha = settings.PERCHA
        try:
            result = classifier.classify_image(
                photo.read(), model_path=percha["MODEL_PATH"], max_pixels=percha["MAX_IMAGE_PIXELS"]
            )
        except classifier.UnreadableImage as exc:
            raise ValidationError({"image": [photo_error_message(exc)]}) from None
        except ModelUnavailable:
            logger.exception("classify: the model could not be loaded")
            raise ClassifierUnavailable() from None
        # where the store would file it: a sandal's category is Calzado (a card group)
        category = selectors.filing_categories({result.label}).get(result.label)
        # as services.products_apply_predictions decides for an upload of this photo
        would_file = category is not None and result.confidence >= services.confidence_threshold()
        data = {**result.as_dict(), "category": category, "would_file": would_file}
        return Response(s.ClassificationSerializer(data, context={"request": request}).data)


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema in English unless ``?lang=`` asks for another language: its
    descriptions are English, and with the caller's language its field titles, enum labels and
    DRF's parameter texts came out in Spanish among them, and changed with Accept-Language."""

    @extend_schema(exclude=True)  # the schema does not describe itself
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if request.GET.get("lang"):
            return super().get(request, *args, **kwargs)
        with translation.override("en"):
            return super().get(request, *args, **kwargs)
