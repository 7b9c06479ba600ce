"""One image pipeline for every upload (avatars, post images).

An upload is never stored as sent: it must be a real JPEG, PNG, WebP or GIF that Pillow can
open and decode completely; it is rotated by its EXIF orientation, stripped of every piece of
metadata (EXIF, GPS, ICC, comments) by copying only its pixels, resized and re-encoded.

What one upload may cost is bounded before any pixel is decoded, from the header's size alone:
at most ``MAX_DECODED_PIXELS`` (16.8 million, 4096x4096) pixels are ever decoded. A JPEG is
decoded already reduced (1/2, 1/4 or 1/8, libjpeg's scaled decoding, no full-size pass) to the
smallest size still covering the output, so a large phone photo (up to ``MAX_SOURCE_PIXELS``)
is cheap; PNG, WebP and GIF have no reduced decoding and so are refused above the cap. Worst
case per image: 16.8 MP at 4 bytes, ~64 MiB decoded plus one RGBA copy (~128 MiB peak) and
under 1 s of CPU on one core (4096x4096 PNG to a 2048 post image: 0.8 s on the dev machine;
a 40 MP JPEG photo: 0.5 s; a 40 MP PNG, 1.5 s and +370 MB before, is refused from its header).
Resizing then works on an image already reduced by whole factors (box filter) before the final
Lanczos pass.
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

# Checked on the header, before decoding, so a small file that claims to be huge (a
# decompression bomb) never reaches memory. See the module docstring for the cost they bound.
MAX_DECODED_PIXELS = 4096 * 4096
MAX_SOURCE_PIXELS = 64_000_000  # a JPEG's full size (it is decoded reduced)
MAX_PIXELS = MAX_DECODED_PIXELS  # the cap a PNG, WebP or GIF meets
_ORIENTATION = 0x0112
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

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


def _jpeg_scale(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The reduction libjpeg decodes at (as ``Image.draft`` picks it): 8, 4, 2 or 1."""
    fits = min(size[0] // target[0], size[1] // target[1])
    return next((s for s in (8, 4, 2) if fits >= s), 1)


def _check_size(image_format: str, size: tuple[int, int], target: tuple[int, int]) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise InvalidImageError("The image is damaged or incomplete.")
    if image_format == "JPEG":
        scale = _jpeg_scale(size, target)
        decoded = -(-width // scale) * -(-height // scale)
        source_cap = MAX_SOURCE_PIXELS
    else:
        decoded, source_cap = width * height, MAX_DECODED_PIXELS
    if width * height > source_cap or decoded > MAX_DECODED_PIXELS:
        raise InvalidImageError(
            f"The image has too many pixels ({width}x{height}): PNG, WebP and GIF images may have "
            f"at most {MAX_DECODED_PIXELS / 1e6:.1f} megapixels, JPEG photos {MAX_SOURCE_PIXELS / 1e6:.0f}."
        )


def _open_verified(data: bytes, target: tuple[int, int]) -> tuple[Image.Image, str, int]:
    """Opens, verifies and decodes the image (first frame for animations), a JPEG already
    reduced towards ``target``. Returns the image, its format and its EXIF orientation."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            image_format = probe.format or ""
            if image_format not in ACCEPTED_FORMATS:
                raise InvalidImageError("Only JPEG, PNG, WebP and GIF images are accepted.")
            _check_size(image_format, probe.size, target)
            probe.verify()
            # verify() leaves the image unusable: open again and decode every pixel, which is
            # what catches truncated or corrupt data.
            image = Image.open(io.BytesIO(data))
            if image_format == "JPEG":
                image.draft(None, target)
            image.seek(0)
            image.load()
            orientation = int(image.getexif().get(_ORIENTATION, 1) or 1)
    except InvalidImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImageError("The image has too many pixels.") from exc
    except UnidentifiedImageError as exc:
        raise InvalidImageError("The file is not an image we can read.") from exc
    except (OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:
        raise InvalidImageError("The image is damaged or incomplete.") from exc
    return image, image_format, orientation


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
    decodable JPEG/PNG/WebP/GIF, and images whose decoding would exceed ``MAX_DECODED_PIXELS``
    (or a JPEG over ``MAX_SOURCE_PIXELS``). Applies the EXIF orientation,
    converts to RGB (RGBA when the image has transparency), then shrinks it to fit within
    ``max_size`` (never enlarging), or with ``square=True`` crops the centre and scales it to
    exactly ``max_size``. The result carries no metadata at all.
    """
    if max_size[0] < 1 or max_size[1] < 1:
        raise ValueError("max_size must be positive")
    data = _read_limited(upload, max_bytes)
    image, source_format, orientation = _open_verified(data, max_size)
    out_format, extension = _OUTPUT[source_format]

    try:
        mode = "RGBA" if _has_alpha(image) and out_format != "JPEG" else "RGB"
        if image.mode != mode:
            image = image.convert(mode)
        # Whole-factor box reduction first (cheap, and every later step works on fewer pixels),
        # keeping at least ``max_size`` so the final Lanczos pass has the detail it needs.
        factor = min(image.width // max_size[0], image.height // max_size[1])
        if factor >= 2:
            image = image.reduce(factor)
        if orientation in _TRANSPOSE_FOR_ORIENTATION:
            image = image.transpose(_TRANSPOSE_FOR_ORIENTATION[orientation])
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
