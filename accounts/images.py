"""One image pipeline for every upload (avatars, post images).

An upload is never stored as sent: it must be a real JPEG, PNG, WebP or GIF that Pillow can
open and decode completely; it is rotated by its EXIF orientation, stripped of every piece of
metadata (EXIF, GPS, ICC, comments) by copying only its pixels, resized and re-encoded.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass

from django.core.files import File
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from config.errors import ApplicationError

# A 40-megapixel image is a large phone photo; anything bigger is refused before decoding, so
# a small file that claims to be huge (a decompression bomb) never reaches memory.
MAX_PIXELS = 40_000_000

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
# Output format by input format: photos stay JPEG, WebP stays WebP, PNG and GIF (which may
# hold transparency or sharp text) become PNG.
_OUTPUT = {"JPEG": ("JPEG", "jpg"), "WEBP": ("WEBP", "webp"), "PNG": ("PNG", "png"), "GIF": ("PNG", "png")}
_CHUNK = 64 * 1024


class InvalidImageError(ApplicationError):
    """The upload is not an image we accept (too big, not an image, damaged, unsupported)."""

    status_code = 400
    code = "invalid_image"


@dataclass(frozen=True)
class ProcessedImage:
    content: ContentFile  # re-encoded bytes, metadata stripped
    width: int
    height: int
    extension: str  # "jpg" | "png" | "webp"


def _read_limited(upload: File, max_bytes: int) -> bytes:
    """The upload's bytes, refusing as soon as more than ``max_bytes`` have been read."""
    if upload.size is not None and upload.size > max_bytes:
        raise InvalidImageError(_too_big_message(max_bytes))
    if hasattr(upload, "seek"):
        upload.seek(0)
    buffer = io.BytesIO()
    while True:
        chunk = upload.read(_CHUNK)
        if not chunk:
            break
        if isinstance(chunk, str):  # a text-mode file is not an image
            raise InvalidImageError("The file is not an image.")
        buffer.write(chunk)
        if buffer.tell() > max_bytes:
            raise InvalidImageError(_too_big_message(max_bytes))
    if buffer.tell() == 0:
        raise InvalidImageError("The file is empty.")
    return buffer.getvalue()


def _too_big_message(max_bytes: int) -> str:
    if max_bytes >= 1024 * 1024:
        return f"The image is too large: the limit is {max_bytes / (1024 * 1024):g} MB."
    return f"The image is too large: the limit is {max_bytes // 1024} KB."


def _open_verified(data: bytes) -> Image.Image:
    """Opens, verifies and fully decodes the image (first frame for animations)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED_FORMATS:
                raise InvalidImageError("Only JPEG, PNG, WebP and GIF images are accepted.")
            width, height = probe.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise InvalidImageError("The image has too many pixels.")
            probe.verify()
            # verify() leaves the image unusable: open again and decode every pixel, which is
            # what catches truncated or corrupt data.
            image = Image.open(io.BytesIO(data))
            image.seek(0)
            image.load()
    except InvalidImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImageError("The image has too many pixels.") from exc
    except UnidentifiedImageError as exc:
        raise InvalidImageError("The file is not an image we can read.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImageError("The image is damaged or incomplete.") from exc
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def process_image(
    *,
    upload: File,
    max_bytes: int,
    max_size: tuple[int, int],
    square: bool = False,
) -> ProcessedImage:
    """Validates and re-encodes an uploaded image.

    Refuses (``InvalidImageError``, HTTP 400) files over ``max_bytes``, anything that is not a
    decodable JPEG/PNG/WebP/GIF, and images over ``MAX_PIXELS``. Applies the EXIF orientation,
    converts to RGB (RGBA when the image has transparency), then shrinks it to fit within
    ``max_size`` (never enlarging), or with ``square=True`` crops the centre and scales it to
    exactly ``max_size``. The result carries no metadata at all.
    """
    if max_size[0] < 1 or max_size[1] < 1:
        raise ValueError("max_size must be positive")
    data = _read_limited(upload, max_bytes)
    image = _open_verified(data)
    source_format = image.format or ""
    out_format, extension = _OUTPUT[source_format]

    try:
        image = ImageOps.exif_transpose(image) or image
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
        if out_format == "JPEG" and image.mode == "RGBA":  # cannot happen for JPEG input, but be safe
            image = image.convert("RGB")
        if square:
            image = ImageOps.fit(image, max_size, method=Image.Resampling.LANCZOS)
        else:
            image.thumbnail(max_size, Image.Resampling.LANCZOS)

        # Only the pixels cross over: no EXIF, GPS, ICC profile, XMP or comments survive.
        clean = Image.frombytes(image.mode, image.size, image.tobytes())
        output = io.BytesIO()
        if out_format == "JPEG":
            clean.save(output, "JPEG", quality=85, optimize=True, progressive=True)
        elif out_format == "WEBP":
            clean.save(output, "WEBP", quality=85, method=4)
        else:
            clean.save(output, "PNG", optimize=True)
    except (OSError, ValueError) as exc:
        raise InvalidImageError("The image could not be processed.") from exc

    return ProcessedImage(
        content=ContentFile(output.getvalue(), name=f"{uuid.uuid4().hex}.{extension}"),
        width=clean.width,
        height=clean.height,
        extension=extension,
    )
