"""The OpenAPI schema: generated without warnings, valid, and saying what the views really do."""

from __future__ import annotations

import jsonschema
import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    return yaml.safe_load(_schema_text())


def _schema_text() -> str:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiYamlRenderer

    return OpenApiYamlRenderer().render(SchemaGenerator().get_schema(public=True)).decode()


def test_schema_generation_validates_without_warnings(tmp_path):
    GENERATOR_STATS.reset()  # warnings of schemas generated earlier in this process
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/products/{id}/status/:" in out.read_text()


def test_every_endpoint_is_documented(schema):
    assert set(schema["paths"]) == {
        "/api/categories/",
        "/api/categories/{slug}/",
        "/api/products/",
        "/api/products/{id}/",
        "/api/products/{id}/status/",
        "/api/products/{id}/category/",
        "/api/products/{id}/reclassify/",
        "/api/products/{id}/accept-suggestion/",
        "/api/classify/",
    }
    assert set(schema["paths"]["/api/products/{id}/"]) - {"parameters"} == {
        "get",
        "patch",
        "delete",
    }


def test_a_products_id_is_an_integer_and_a_category_a_slug(schema):
    """Generated clients take the id as the integer the responses give, not a string."""
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    expected = "integer" if parameter["name"] == "id" else "string"
                    assert parameter["schema"]["type"] == expected, (path, parameter)
    product = schema["components"]["schemas"]["Product"]["properties"]["id"]
    assert product["type"] == "integer"


def conforms(schema: dict, component: str, instance: object) -> None:
    """Validate a real response against a component of the schema (OpenAPI 3.1: JSON Schema
    2020-12, its $refs resolved within the document)."""
    jsonschema.Draft202012Validator(
        {**schema, "$ref": f"#/components/schemas/{component}"}
    ).validate(instance)


def test_real_responses_conform_to_the_schema_nulls_included(
    schema, staff_client, anon_client, make_product, photo_bytes
):
    """The review queue's products have no category; the last page no next link. A client
    validating answers against the schema (3.0's allOf + nullable said "never null") refused
    both."""
    assert schema["openapi"].startswith("3.1")
    make_product()
    waiting = make_product(category=None, classification_status="needs_review", is_published=False)
    page = staff_client.get("/api/products/").json()
    assert page["next"] is None and any(p["category"] is None for p in page["results"])
    conforms(schema, "PaginatedProductList", page)
    status = staff_client.get(f"/api/products/{waiting.pk}/status/").json()
    assert status["category"] is None
    conforms(schema, "ProductStatus", status)
    conforms(schema, "Product", staff_client.get(f"/api/products/{waiting.pk}/").json())
    anonymous = anon_client.get("/api/products/").json()
    conforms(schema, "PaginatedProductList", anonymous)  # without the staff-only fields
    photo = SimpleUploadedFile("a.jpg", photo_bytes, content_type="image/jpeg")
    answer = anon_client.post("/api/classify/", {"image": photo}).json()
    conforms(schema, "Classification", answer)
    conforms(schema, "Classification", {**answer, "category": None, "would_file": False})
    with pytest.raises(jsonschema.ValidationError):  # the check can fail
        conforms(schema, "Classification", {**answer, "category": "vestidos"})


def test_the_schema_is_in_english_unless_asked(client):
    """Its descriptions are English; field titles and enum labels followed Accept-Language."""
    spanish_caller = client.get("/api/schema/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "A page number within the paginated result set." in spanish_caller
    assert "Un número de página" not in spanish_caller
    asked = client.get("/api/schema/?lang=es").content.decode()
    assert "Un número de página" in asked


def test_upload_is_multipart_and_answers_202_with_location(schema):
    upload = schema["paths"]["/api/products/"]["post"]

    assert list(upload["requestBody"]["content"]) == ["multipart/form-data"]
    ref = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert fields["properties"]["image"]["format"] == "binary"
    assert set(fields["required"]) == {"name", "price", "image"}
    assert "202" in upload["responses"] and "201" not in upload["responses"]
    assert "Location" in upload["responses"]["202"]["headers"]
    assert "202" in schema["paths"]["/api/products/{id}/reclassify/"]["post"]["responses"]


def test_list_documents_its_filters_and_pages(schema):
    listing = schema["paths"]["/api/products/"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "category", "status", "search", "ordering", "page", "page_size",
    }  # fmt: skip
    ok = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/PaginatedProductList")
    page_size = next(p for p in listing["parameters"] if p["name"] == "page_size")["schema"]
    assert (page_size["minimum"], page_size["maximum"]) == (1, 100)


def test_the_models_workings_are_documented_as_staff_only(schema):
    """Anonymous answers leave them out, so the schema must not call them required."""
    components = schema["components"]["schemas"]
    for name, staff_only in [
        ("Product", {"probabilities", "model_version", "classification_error"}),
        ("ProductStatus", {"classification_error"}),
    ]:
        component = components[name]
        assert staff_only <= set(component["properties"])
        assert not staff_only & set(component["required"])
        assert {"id", "category", "confidence"} <= set(component["required"])
        for field in staff_only:
            assert "Staff only" in component["properties"][field]["description"]


def test_classify_is_multipart_and_documents_throttling_and_503(schema):
    classify = schema["paths"]["/api/classify/"]["post"]
    assert list(classify["requestBody"]["content"]) == ["multipart/form-data"]
    assert {"200", "400", "429", "503"} <= set(classify["responses"])


def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == docs.status_code == 200
    assert b"/api/classify/" in schema.content
    page = docs.content.decode()
    assert "/api/schema/" in page
    assert "drf_spectacular_sidecar" in page and "cdn.jsdelivr" not in page
