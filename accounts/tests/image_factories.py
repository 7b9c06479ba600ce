"""Real images built in memory with Pillow, for upload tests (any app may use them)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS_IFD = 0x8825


def image_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (800, 600),
    mode: str = "RGB",
    color: object = (200, 30, 30),
    exif: Image.Exif | None = None,
) -> bytes:
    image = Image.new(mode, size, color)  # type: ignore[arg-type]  # Pillow accepts any colour tuple  # Pillow accepts any colour tuple
    buffer = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def gps_exif() -> Image.Exif:
    """EXIF with a camera model and a GPS position, as a phone photo carries."""
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0110] = "SecretPhone"  # Model
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 29.0)
    gps[3] = "E"
    gps[4] = (2.0, 17.0, 40.0)
    return exif


def image_upload(
    name: str = "photo.jpg", content_type: str = "image/jpeg", data: bytes | None = None, **kwargs: object
) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, data if data is not None else image_bytes(**kwargs), content_type=content_type
    )  # type: ignore[arg-type]  # Pillow accepts any colour tuple
