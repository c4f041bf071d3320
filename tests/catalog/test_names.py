"""Names for products nobody has named yet: from the photo's file name, and whether a device
made that name (catalog/names.py)."""

from __future__ import annotations

import pytest
from django.utils import translation

from catalog.names import is_camera_file_name, product_name_from_filename

CAMERA_NAMES = [
    "IMG_20231105_123456.jpg",
    "IMG_2041.JPG",
    "img_2041.jpeg",
    "IMG_2041 (1).jpg",
    "IMG_E2041.JPG",  # edited on an iPhone
    "IMG-20240101-WA0001.jpg",  # WhatsApp on Android
    "IMG_20240105_101010_HDR.jpg",
    "MVIMG_20190101_123456.jpg",
    "PXL_20240101_101010123.jpg",
    "PXL_20240101_101010123.MP.jpg",
    "DSC_0042.JPG",
    "_DSC0042.JPG",
    "DSC00042.JPG",
    "DSCN1234.JPG",
    "DSCF1234.JPG",
    "P1010001.JPG",
    "GOPR0123.JPG",
    "DJI_0001.JPG",
    "SAM_0001.JPG",
    "CIMG0001.JPG",
    "WP_20140101_001.jpg",
    "WhatsApp Image 2024-01-02 at 10.11.12.jpeg",
    "WhatsApp Image 2024-01-02 at 10.11.12 (1).jpeg",
    "Imagen de WhatsApp 2024-01-12 a las 10.55.21_8a9b7c6d.jpg",
    "Screenshot 2024-01-05 at 10.11.12.png",
    "Screenshot_20240105-101010_Instagram.jpg",
    "Screenshot from 2024-01-05 10-11-12.png",
    "Screenshot (12).png",
    "Screen Shot 2020-01-05 at 10.11.12 AM.png",
    "Captura de pantalla 2024-01-05 a las 10.11.12.png",
    "Captura de pantalla (3).png",
    "photo_2024-01-05_10-11-12.jpg",  # Telegram
    "Photo on 05-01-2024 at 10.11.jpg",  # Photo Booth
    "Foto 05-01-24, 10 11 12.jpg",
    "Foto_20240105.jpg",
    "20240105_101010.jpg",
    "20240105_101010(0).jpg",
    "2024-01-05 10.11.12.png",
    "0042.jpg",
    "7.png",
    "3F2504E0-4F89-11D3-9A0C-0305E82C3301.jpg",
    "3f2504e04f8911d39a0c0305e82c3301.png",
    "467890123_1234567890123456_1234567890123456789_n.jpg",  # saved from Facebook
]

PERSON_NAMES = [
    "camiseta_roja.jpg",
    "camiseta 2.jpg",
    "vestido rojo talla 38.jpg",
    "jeans 501.jpg",
    "Jeans_501_azul.png",
    "pantalon-vaquero.jpg",
    "bolso.jpg",
    "falda (2).jpg",
    "zapatillas 2024.jpg",
    "abrigo-invierno-2023-24.jpg",
    "Pantalón corto.webp",
    "foto vestido.jpg",
    "Foto 2.jpg",
    "imagen de la falda.png",
    "Imágenes de verano.png",
    "camisa_P3.jpg",
    "Polo 1234.jpg",
    "sudadera capucha 12-34.jpg",
    "screenshots de camisetas.png",
    "deadbeef.jpg",  # hexadecimal letters, but a word, and short
    "café.jpg",
    "Samba.jpg",
    "Dsc.jpg",
    ".jpg",
    "___.png",
]


@pytest.mark.parametrize("filename", CAMERA_NAMES)
def test_a_name_a_camera_phone_or_app_gave_is_recognised(filename):
    assert is_camera_file_name(filename)


@pytest.mark.parametrize("filename", PERSON_NAMES)
def test_a_name_a_person_gave_is_not_taken_for_a_cameras(filename):
    assert not is_camera_file_name(filename)


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("camiseta_roja.jpg", "Camiseta roja"),
        ("IMG_2041.JPG", "IMG 2041"),
        ("  vestido--largo .png", "Vestido largo"),
        (".jpg", "Jpg"),
        ("___.png", "Product"),
    ],
)
def test_product_name_from_filename(filename, name):
    with translation.override("en"):
        assert product_name_from_filename(filename) == name
