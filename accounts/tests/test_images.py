"""The image pipeline: real images in, clean re-encoded images out; everything else refused."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.images import MAX_PIXELS, InvalidImageError, process_image
from accounts.tests.image_factories import GPS_IFD, gps_exif
from accounts.tests.image_factories import image_bytes as make_image

MB = 1024 * 1024
ORIENTATION = 0x0112


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def reopen(result) -> Image.Image:
    return Image.open(io.BytesIO(result.content.read()))


def test_jpeg_is_downsized_and_reencoded():
    result = process_image(
        upload=upload(make_image(size=(2000, 1000))), max_bytes=5 * MB, max_size=(800, 800)
    )
    assert (result.width, result.height) == (800, 400)
    assert result.extension == "jpg"
    assert result.content.name.endswith(".jpg")
    image = reopen(result)
    assert image.format == "JPEG"
    assert image.size == (800, 400)


def test_small_image_is_not_enlarged():
    result = process_image(upload=upload(make_image(size=(100, 50))), max_bytes=MB, max_size=(800, 800))
    assert (result.width, result.height) == (100, 50)


def test_square_crops_the_centre_to_exact_size():
    result = process_image(
        upload=upload(make_image(size=(1200, 600))), max_bytes=5 * MB, max_size=(400, 400), square=True
    )
    assert (result.width, result.height) == (400, 400)
    assert reopen(result).size == (400, 400)


def test_gps_and_camera_metadata_are_stripped():
    data = make_image(exif=gps_exif())
    # The source really carries the GPS position.
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)
    assert b"SecretPhone" in data

    result = process_image(upload=upload(data), max_bytes=5 * MB, max_size=(400, 400))
    raw = result.content.read()
    image = Image.open(io.BytesIO(raw))
    assert not image.getexif()
    assert not image.getexif().get_ifd(GPS_IFD)
    assert "exif" not in image.info
    assert b"SecretPhone" not in raw


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90° clockwise to display
    data = make_image(size=(600, 300), exif=exif)
    result = process_image(upload=upload(data), max_bytes=5 * MB, max_size=(1000, 1000))
    assert (result.width, result.height) == (300, 600)
    assert ORIENTATION not in reopen(result).getexif()


def test_png_with_transparency_keeps_alpha():
    data = make_image("PNG", size=(300, 300), mode="RGBA", color=(0, 0, 255, 0))
    result = process_image(upload=upload(data, "a.png", "image/png"), max_bytes=MB, max_size=(100, 100))
    image = reopen(result)
    assert result.extension == "png"
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0


def test_cmyk_and_greyscale_become_rgb():
    for mode, color in (("CMYK", (0, 0, 0, 0)), ("L", 128)):
        result = process_image(
            upload=upload(make_image(mode=mode, color=color)), max_bytes=MB, max_size=(50, 50)
        )
        assert reopen(result).mode == "RGB"


def test_webp_stays_webp():
    result = process_image(
        upload=upload(make_image("WEBP"), "a.webp", "image/webp"), max_bytes=MB, max_size=(64, 64)
    )
    assert result.extension == "webp"
    assert reopen(result).format == "WEBP"


def test_animated_gif_keeps_its_first_frame():
    frames = [Image.new("P", (40, 40), i * 40) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    result = process_image(
        upload=upload(buffer.getvalue(), "a.gif", "image/gif"), max_bytes=MB, max_size=(64, 64)
    )
    image = reopen(result)
    assert result.extension == "png"
    assert getattr(image, "n_frames", 1) == 1
    assert image.size == (40, 40)


def test_text_file_renamed_jpg_is_refused():
    with pytest.raises(InvalidImageError) as info:
        process_image(upload=upload(b"hello, I am not a picture\n" * 20), max_bytes=MB, max_size=(64, 64))
    assert info.value.code == "invalid_image"
    assert info.value.status_code == 400
    assert "not an image" in info.value.message


def test_truncated_jpeg_is_refused():
    data = make_image(size=(800, 800))
    with pytest.raises(InvalidImageError, match="damaged or incomplete"):
        process_image(upload=upload(data[: len(data) // 2]), max_bytes=MB, max_size=(64, 64))


def test_oversized_file_is_refused():
    data = make_image(size=(100, 100)) + b"\0" * (2 * MB)  # trailing bytes pad it past the limit
    with pytest.raises(InvalidImageError, match="too large"):
        process_image(upload=upload(data), max_bytes=MB, max_size=(64, 64))


def test_empty_file_is_refused():
    with pytest.raises(InvalidImageError, match="empty"):
        process_image(upload=upload(b""), max_bytes=MB, max_size=(64, 64))


def test_unsupported_format_is_refused():
    with pytest.raises(InvalidImageError, match="Only JPEG, PNG, WebP and GIF"):
        process_image(
            upload=upload(make_image("BMP", size=(50, 50)), "a.bmp", "image/bmp"),
            max_bytes=MB,
            max_size=(64, 64),
        )


def test_decompression_bomb_is_refused():
    # A tiny PNG whose header claims more pixels than the cap: refused before decoding.
    side = int(MAX_PIXELS**0.5) + 100
    data = make_image("PNG", size=(side, side), mode="1", color=0)
    assert len(data) < MB
    with pytest.raises(InvalidImageError, match="too many pixels"):
        process_image(upload=upload(data, "bomb.png", "image/png"), max_bytes=MB, max_size=(64, 64))


# --- 13.15: what one upload may cost is bounded before decoding --------------------------------


def test_a_40_megapixel_single_colour_png_is_refused_before_decoding():
    data = make_image("PNG", size=(7300, 5480), color=(10, 120, 200))
    assert len(data) < MB  # small on the wire, 160 MB once decoded
    with pytest.raises(InvalidImageError, match="too many pixels"):
        process_image(upload=upload(data, "flat.png", "image/png"), max_bytes=8 * MB, max_size=(2048, 2048))


def test_a_40_megapixel_jpeg_photo_is_decoded_reduced_and_accepted():
    data = make_image("JPEG", size=(7300, 5480), color=(10, 120, 200))
    result = process_image(upload=upload(data), max_bytes=8 * MB, max_size=(2048, 2048))
    assert (result.width, result.height) == (2048, 1537)


def test_a_jpeg_that_cannot_be_decoded_reduced_enough_is_refused():
    # 45 MP, but too narrow for libjpeg's scaled decoding to help: it would decode at full size.
    data = make_image("JPEG", size=(30000, 1500), color=(10, 120, 200))
    with pytest.raises(InvalidImageError, match="too many pixels"):
        process_image(upload=upload(data), max_bytes=8 * MB, max_size=(2048, 2048))


def test_the_avatar_api_refuses_a_40_megapixel_png_with_a_clear_error(user_api_client):
    data = make_image("PNG", size=(7300, 5480), color=(10, 120, 200))
    response = user_api_client.patch(
        "/api/v1/me/", {"avatar": upload(data, "flat.png", "image/png")}, format="multipart"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_image"
    assert "too many pixels" in error["message"]
