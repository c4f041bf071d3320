"""What a product is called when nobody has named it yet: a name made from its photo's file
name, and whether that file name was a person's or a device's ("IMG_2041.jpg")."""

from __future__ import annotations

import re
from pathlib import PurePath

from django.utils.translation import gettext

from catalog.models import Product

NAME_MAX_LENGTH = Product._meta.get_field("name").max_length


def product_name_from_filename(filename: str) -> str:
    """A readable product name from a photo's file name: "camiseta_roja.jpg" → "Camiseta roja".

    Bulk uploads and imports have no other name to go by; a person can rename later.
    """
    stem = PurePath(filename).stem
    words = re.sub(r"[\s_\-.]+", " ", stem).strip()
    if not words:
        return gettext("Product")
    return (words[:1].upper() + words[1:])[:NAME_MAX_LENGTH]


# Names a device or an app gave a photo, matched against the file name's stem with its
# separators (_ - . , ( ) ~ and spaces) made single spaces, case-insensitively.
# Each is matched at the start (``re.match``): one ending in ``$`` must match the whole name,
# the others its beginning only (IMG_2041_falda.jpg still begins with a camera's counter).
CAMERA_FILE_NAMES = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # a phone's or camera's counter or time: IMG_2041, IMG_E2041 (edited on an iPhone),
        # IMG-20240101-WA0001 (WhatsApp on Android), MVIMG_…, PXL_20240101_101010123.MP,
        # DSC_0042, _DSC0042, DSCN0042 (Nikon), DSCF0042 (Fujifilm), CIMG0042 (Casio),
        # GOPR0042 (GoPro), DJI_0042 (drones), SAM_0042 (Samsung), WP_20140101_001 (Windows Phone)
        r"(?:IMG|MVIMG|PXL) ?E?\d",
        r"(?:DSC|DSCN|DSCF|CIMG|GOPR|DJI|SAM|WP) ?\d{3}",
        r"P\d{7}",  # P1010001 (Panasonic, Olympus)
        # messaging apps and screenshot tools, in English and in Spanish
        r"WhatsApp Image\b",
        r"Imagen de WhatsApp\b",
        r"Screen ?shot\b",  # Screenshot_20240105-101010, Screen Shot 2020-01-05 at …
        r"Captura de pantalla\b",
        # "Photo"/"Foto" and a date: photo_2024-01-05_10-11-12 (Telegram), Photo on 05-01-2024
        # at 10.11 (Photo Booth); not "Foto 2" nor "Foto vestido"
        r"(?:Photo|Foto) (?:on |el |de )?(?:\d{8}|\d{4} \d{1,2} \d{1,2}|\d{1,2} \d{1,2} \d{2,4})\b",
        r"[\d ]+$",  # only a number, a date or a time: 20240105_101010, 0042
        r"\d{5,}(?: \d+)+ [no]$",  # a download from Facebook or Instagram: 1234567_12345678_n
        r"[0-9a-f]{8}(?: [0-9a-f]{4}){3} [0-9a-f]{12}(?: \d+)?$",  # a UUID
        r"(?=[a-f]*\d)[0-9a-f]{16,}$",  # a long hexadecimal hash, with at least one digit
    )
]


def is_camera_file_name(filename: str) -> bool:
    """Whether a camera, a phone, a messaging app or a screenshot tool named the file, not a
    person: "IMG_20231105_123456.jpg", "WhatsApp Image 2024-01-02 at 10.11.12.jpeg", a date,
    a UUID; not "camiseta 2.jpg" nor "vestido rojo talla 38.jpg".

    A product named after its photo's file would go on sale as "IMG 20231105 123456": bulk
    uploads and imports keep such products hidden until the shop names them.
    """
    words = re.sub(r"[\s_\-.,()~]+", " ", PurePath(filename).stem).strip()
    return bool(words) and any(pattern.match(words) for pattern in CAMERA_FILE_NAMES)
