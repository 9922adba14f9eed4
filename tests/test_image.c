/*
 * test_image.c — images in (pf_image_load, pf_image_decode), resizing and
 * preparation for a model (pf_image_resize, pf_image_prepare), and
 * ImageNet's class names.
 *
 * Decoding is compared with PIL's, which torchvision's ToTensor sees
 * (tests/golden/pretrained/expected.safetensors, gen_pretrained.py): PNG
 * of every colour type and JPEG, pixel for pixel. Truncated files, files
 * whose header lies about the size, and files that are no image are
 * refused with an error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "testing.h"

#define GOLDEN(name) PF_TEST_DIR "/golden/pretrained/" name

static uint8_t *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* img (float [3, H, W] in [0, 1]) * 255 equals the uint8 pixels exactly. */
static void assert_pixels(pf_ctx *ctx, pf_tensor *img, pf_tensor *pixels)
{
    PF_CHECK(img != NULL);
    pf_tensor *expected = pf_mul_scalar(ctx, pf_to_dtype(ctx, pixels, PF_F32), 1.0 / 255);
    PF_ASSERT_CLOSE(img, expected, 0, 1e-7);
}

static void test_decode_like_pil(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "pretrained/expected");
    static const struct {
        const char *file, *tensor;
    } cases[] = {
        {GOLDEN("photo.png"), "png_pixels"},
        {GOLDEN("photo.jpg"), "jpg_pixels"},
        {GOLDEN("small_grey.png"), "small_grey_png"},
        {GOLDEN("small_rgba.png"), "small_rgba_png"},
        {GOLDEN("small_palette.png"), "small_palette_png"},
        {GOLDEN("small_grey.jpg"), "small_grey_jpg"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pf_tensor *img = pf_image_load(ctx, cases[i].file);
        assert_pixels(ctx, img, pf_golden_get(&g, cases[i].tensor));
    }
    PF_ASSERT_SHAPE(pf_image_load(ctx, GOLDEN("photo.png")), 3, 120, 160);
    /* From memory, the same. */
    size_t size;
    uint8_t *bytes = read_whole(GOLDEN("photo.jpg"), &size);
    assert_pixels(ctx, pf_image_decode(ctx, bytes, size), pf_golden_get(&g, "jpg_pixels"));
    free(bytes);
}

/* Every prefix of the file is refused. */
static void assert_truncations_refused(pf_ctx *ctx, const char *path)
{
    size_t size;
    uint8_t *bytes = read_whole(path, &size);
    size_t step = size / 200 + 1;
    for (size_t cut = 0; cut < size; cut += (cut < 64 ? 1 : step)) {
        pf_tensor *t = pf_image_decode(ctx, bytes, cut);
        if (t) {
            print_error("%s cut at %zu of %zu bytes decoded\n", path, cut, size);
            fail();
        }
        pf_error_clear();
        pf_ctx_reset(ctx);
    }
    free(bytes);
}

static void test_truncated_refused(void **state)
{
    pf_ctx *ctx = *state;
    assert_truncations_refused(ctx, GOLDEN("photo.png"));
    assert_truncations_refused(ctx, GOLDEN("photo.jpg"));
    assert_truncations_refused(ctx, GOLDEN("small_palette.png"));
    size_t size;
    uint8_t *bytes = read_whole(GOLDEN("photo.jpg"), &size);
    PF_CHECK(pf_image_decode(ctx, bytes, size - 300) == NULL);
    PF_ASSERT_ERROR("bad JPEG");
    free(bytes);
    bytes = read_whole(GOLDEN("photo.png"), &size);
    PF_CHECK(pf_image_decode(ctx, bytes, size - 100) == NULL);
    PF_ASSERT_ERROR("bad PNG");
    free(bytes);
}

/* The PNG with its IHDR's width and height replaced, and its CRC
 * recomputed, so that only the size lies. */
static uint8_t *png_with_size(const uint8_t *bytes, size_t size, uint32_t w, uint32_t h)
{
    uint8_t *copy = malloc(size);
    memcpy(copy, bytes, size);
    assert_memory_equal(copy + 12, "IHDR", 4);
    for (int i = 0; i < 4; i++) {
        copy[16 + i] = (uint8_t)(w >> (24 - 8 * i));
        copy[20 + i] = (uint8_t)(h >> (24 - 8 * i));
    }
    uint32_t crc = (uint32_t)crc32(0, copy + 12, 17);
    for (int i = 0; i < 4; i++)
        copy[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
    return copy;
}

static void test_lying_headers_refused(void **state)
{
    pf_ctx *ctx = *state;
    size_t size;
    uint8_t *png = read_whole(GOLDEN("photo.png"), &size);
    static const struct {
        uint32_t w, h;
        const char *needle;
    } cases[] = {
        {160, 121, "bad PNG"},                    /* one row more than the data */
        {320, 240, "bad PNG"},                    /* 4 times the pixels */
        {8000, 8000, "more than a 27155-byte file can hold"}, /* more than deflate could give */
        {16000, 16000, "more than the limit"},
        {20000, 100, "bad PNG"},                  /* past libpng's limit we set */
        {0, 100, "bad PNG"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t *lie = png_with_size(png, size, cases[i].w, cases[i].h);
        PF_CHECK(pf_image_decode(ctx, lie, size) == NULL);
        PF_ASSERT_ERROR(cases[i].needle);
        free(lie);
    }
    /* The untouched size, through the same path, decodes. */
    uint8_t *same = png_with_size(png, size, 160, 120);
    PF_CHECK(pf_image_decode(ctx, same, size) != NULL);
    free(same);
    free(png);

    /* JPEG: the start-of-frame's height and width made larger. */
    uint8_t *jpg = read_whole(GOLDEN("photo.jpg"), &size);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < size && !sof; i++)
        if (jpg[i] == 0xff && (jpg[i + 1] == 0xc0 || jpg[i + 1] == 0xc2))
            sof = i;
    assert_true(sof > 0);
    static const uint16_t dims[][2] = {{240, 320}, {4000, 4000}, {60000, 60000}};
    for (size_t i = 0; i < 3; i++) {
        jpg[sof + 5] = (uint8_t)(dims[i][0] >> 8), jpg[sof + 6] = (uint8_t)dims[i][0];
        jpg[sof + 7] = (uint8_t)(dims[i][1] >> 8), jpg[sof + 8] = (uint8_t)dims[i][1];
        PF_CHECK(pf_image_decode(ctx, jpg, size) == NULL);
        PF_ASSERT_ERROR("bad JPEG");
    }
    free(jpg);
}

static void test_not_images(void **state)
{
    pf_ctx *ctx = *state;
    PF_CHECK(pf_image_load(ctx, GOLDEN("arch.txt")) == NULL);
    PF_ASSERT_ERROR("not a PNG or JPEG image");
    PF_CHECK(pf_image_load(ctx, GOLDEN("alexnet32.pth")) == NULL);
    PF_ASSERT_ERROR("not a PNG or JPEG image");
    PF_CHECK(pf_image_load(ctx, GOLDEN("missing.png")) == NULL);
    PF_ASSERT_ERROR("cannot open");
    PF_CHECK(pf_image_decode(ctx, (const uint8_t *)"", 0) == NULL);
    PF_ASSERT_ERROR("not a PNG or JPEG image");
    PF_CHECK(pf_image_decode(ctx, (const uint8_t *)"\x89PNG\r\n\x1a\n", 8) == NULL);
    PF_ASSERT_ERROR("bad PNG");
    PF_CHECK(pf_image_decode(ctx, (const uint8_t *)"\xff\xd8\xff\xe0", 4) == NULL);
    PF_ASSERT_ERROR("bad JPEG");
}

static void test_resize_and_prepare(void **state)
{
    pf_ctx *ctx = *state;
    /* torch.nn.functional.interpolate([[0, 1], [2, 3]], (4, 4), bilinear,
     * align_corners=False). */
    pf_tensor *x = pf_from_f32(ctx, (float[]){0, 1, 2, 3}, PF_DIMS(1, 2, 2));
    PF_ASSERT_VALUES(pf_image_resize(ctx, x, 4, 4), 1e-6, 0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25,
                     2.5, 2, 2.25, 2.75, 3);
    /* Downscaling 4 -> 2: output pixel i samples 2i + 0.5, halfway between
     * two inputs (no antialiasing). */
    pf_tensor *row = pf_from_f32(ctx, (float[]){0, 10, 20, 30}, PF_DIMS(1, 1, 4));
    PF_ASSERT_VALUES(pf_image_resize(ctx, row, 1, 2), 1e-6, 5, 25);
    PF_CHECK(pf_image_resize(ctx, x, 0, 3) == NULL);
    PF_ASSERT_ERROR("output size");

    /* The slide's normalisation: mean 0.5, std 0.5 afterwards. */
    pf_tensor *img = pf_image_load(ctx, GOLDEN("photo.png"));
    pf_tensor *y = pf_image_prepare(ctx, img, &(pf_image_prep){256, 224, PF_NORM_SLIDE});
    PF_ASSERT_SHAPE(y, 1, 3, 224, 224);
    assert_true(fabs(pf_item(pf_mean(ctx, y)) - 0.5) < 1e-5);
    assert_true(fabs(pf_item(pf_std(ctx, y, 4, (int[]){0, 1, 2, 3}, 1, false)) - 0.5) < 1e-5);
    pf_golden g = pf_golden_load(ctx, "pretrained/expected");
    PF_ASSERT_CLOSE(pf_narrow(ctx, pf_narrow(ctx, pf_select(ctx, y, 0, 0), 1, 0, 8), 2, 0, 8),
                    pf_golden_get(&g, "alexnet.slide_corner"), 0, 1e-5);
    /* The whole image, as the slide fed it; and a wide image's sides. */
    PF_ASSERT_SHAPE(pf_image_prepare(ctx, img, &(pf_image_prep){0, 0, PF_NORM_NONE}), 1, 3, 120, 160);
    PF_ASSERT_SHAPE(pf_image_prepare(ctx, img, &(pf_image_prep){100, 0, PF_NORM_IMAGENET}), 1, 3, 100, 133);
    PF_ASSERT_SHAPE(pf_image_prepare(ctx, pf_transpose(ctx, img, 1, 2), &(pf_image_prep){100, 0, PF_NORM_NONE}), 1,
                    3, 133, 100);
    /* Errors. */
    PF_CHECK(pf_image_prepare(ctx, img, &(pf_image_prep){0, 121, PF_NORM_NONE}) == NULL);
    PF_ASSERT_ERROR("a 121 x 121 crop of a 120 x 160 image");
    PF_CHECK(pf_image_prepare(ctx, pf_full(ctx, 0.5, PF_DIMS(3, 4, 4)), &(pf_image_prep){0, 0, PF_NORM_SLIDE}) ==
             NULL);
    PF_ASSERT_ERROR("uniform");
    PF_CHECK(pf_image_prepare(ctx, pf_zeros(ctx, PF_DIMS(1, 4, 4)), &(pf_image_prep){0, 0, PF_NORM_IMAGENET}) ==
             NULL);
    PF_ASSERT_ERROR("needs 3 channels");
    PF_CHECK(pf_image_prepare(ctx, pf_zeros(ctx, PF_DIMS(4, 4)), &(pf_image_prep){0, 0, PF_NORM_NONE}) == NULL);
    PF_ASSERT_ERROR("expects a float32 [C,H,W] image");
}

static void test_imagenet_classes(void **state)
{
    (void)state;
    assert_string_equal(pf_imagenet_class(0), "tench");
    assert_string_equal(pf_imagenet_class(178), "Weimaraner");
    assert_string_equal(pf_imagenet_class(208), "Labrador retriever");
    assert_string_equal(pf_imagenet_class(999), "toilet tissue");
    assert_null(pf_imagenet_class(-1));
    assert_null(pf_imagenet_class(1000));
    for (int i = 0; i < PF_IMAGENET_CLASSES; i++)
        assert_true(pf_imagenet_class(i) && pf_imagenet_class(i)[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decode_like_pil, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_refused, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_lying_headers_refused, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_not_images, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_resize_and_prepare, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_imagenet_classes, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
