/*
 * test_lecture_understanding.c — the lecture experiments of "Compréhension
 * des modèles" (examples/lecture/tsne.c, visualize.c), run at quick sizes
 * into a temporary folder on the MNIST files of ../shared/data/mnist:
 *
 *   tsne       five maps (input, layers #2, #5, #7, #9) of 500 test digits,
 *              with the sizes of the layers' encodings; the 1-NN accuracy
 *              of the last layer's map above the input's (the slides'
 *              claim: the classes separate with depth), and above chance;
 *              the trained network kept in OUT/models for the next
 *              experiment; the figure a PNG that libpng decodes;
 *   visualize  reuses that network (no second training); guided
 *              backpropagation gives nonzero gradients; activation
 *              maximisation raises every unit it works on; without
 *              PF_VGG16_WEIGHTS, a note says how to get VGG16's weights;
 *              every figure a PNG that decodes.
 */
#define _POSIX_C_SOURCE 200809L
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lecture.h"
#include "testing.h"

#define DATA PF_SHARED_DATA_DIR "/mnist"

static char out_dir[256];

/* Fails unless path is a PNG file that libpng reads to its last row, of at
 * least min_side pixels each way. */
static void assert_png_decodes(const char *path, unsigned min_side)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: missing", path);
    unsigned char signature[8] = {0};
    if (fread(signature, 1, 8, f) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
        fclose(f);
        fail_msg("%s: not a PNG file", path);
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep volatile row = NULL;
    volatile png_uint_32 width = 0, height = 0, rows = 0;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free((void *)row);
        fclose(f);
        fail_msg("%s: libpng cannot decode it (%u of %u rows read)", path, (unsigned)rows, (unsigned)height);
        return;
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    width = png_get_image_width(png, info);
    height = png_get_image_height(png, info);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    row = malloc(png_get_rowbytes(png, info));
    for (int pass = 0; row && pass < passes; pass++)
        for (rows = 0; rows < height; rows++)
            png_read_row(png, row, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free((void *)row);
    fclose(f);
    if (width < min_side || height < min_side)
        fail_msg("%s: %ux%u pixels, too small", path, (unsigned)width, (unsigned)height);
}

/* Runs experiment `name` (quick) and returns its parsed results.json, after
 * checking that every figure it lists decodes. */
static cJSON *run(const char *name, int min_figures)
{
    const lecture_experiment *e = lecture_find(name);
    assert_non_null(e);
    assert_int_equal(lecture_run_experiment(e, out_dir, true, 0, DATA, 0), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/%s/results.json", out_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: missing", path);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    cJSON *r = cJSON_Parse(text);
    assert_non_null(r);
    const cJSON *figures = cJSON_GetObjectItem(r, "figures"), *fig;
    assert_true(cJSON_GetArraySize(figures) >= min_figures);
    cJSON_ArrayForEach(fig, figures)
    {
        const cJSON *file = cJSON_GetObjectItem(fig, "file"), *caption = cJSON_GetObjectItem(fig, "caption");
        assert_true(cJSON_IsString(file) && cJSON_IsString(caption) && strlen(caption->valuestring) > 20);
        snprintf(path, sizeof path, "%s/%s/%s", out_dir, name, file->valuestring);
        assert_png_decodes(path, 32);
    }
    return r;
}

static double number(const cJSON *r, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "numbers"), key);
    if (!cJSON_IsNumber(v))
        fail_msg("numbers.%s: missing", key);
    return v->valuedouble;
}

/* The values of a series; fails unless it has n of them. */
static void series(const cJSON *r, const char *key, int n, double *out)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "numbers"), key);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != n)
        fail_msg("numbers.%s: not %d values", key, n);
    for (int i = 0; i < n; i++)
        out[i] = cJSON_GetArrayItem(v, i)->valuedouble;
}

static bool notes_mention(const cJSON *r, const char *what)
{
    const cJSON *note;
    cJSON_ArrayForEach(note, cJSON_GetObjectItem(r, "notes"))
    if (cJSON_IsString(note) && strstr(note->valuestring, what))
        return true;
    return false;
}

static void test_tsne(void **state)
{
    (void)state;
    cJSON *r = run("tsne", 1);
    double dims[5], map[5], layer[5], kl[5];
    series(r, "dimensions", 5, dims);
    assert_true(dims[0] == 784 && dims[1] == 32 * 8 * 8 && dims[2] == 64 * 2 * 2 && dims[3] == 200 && dims[4] == 10);
    series(r, "knn_accuracy_map", 5, map);
    series(r, "knn_accuracy_layer", 5, layer);
    series(r, "kl_divergence", 5, kl);
    print_message("1-NN accuracy of the maps: %.3f %.3f %.3f %.3f %.3f\n", map[0], map[1], map[2], map[3], map[4]);
    /* The slides' claim, on a network trained for one quick epoch (test
     * error 7.5%; maps 0.82 -> 0.89 on 500 digits): the last layer's map
     * keeps the classes apart better than the input's. */
    assert_true(map[4] > map[0]);
    assert_true(map[0] > 0.5); /* chance is 0.1: the input already has structure */
    for (int l = 0; l < 5; l++)
        assert_true(layer[l] > 0.5 && layer[l] <= 1 && kl[l] > 0 && kl[l] < 5);
    assert_true(number(r, "points") == 500);
    assert_true(number(r, "network_test_error_percent") < 20);
    cJSON_Delete(r);
    /* The network is kept for the next experiment. */
    char path[512];
    snprintf(path, sizeof path, "%s/models/lecture-cnn-mnist-e1-s0-quick.safetensors", out_dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fclose(f);
}

static void test_visualize(void **state)
{
    (void)state;
    unsetenv("PF_VGG16_WEIGHTS");
    cJSON *r = run("visualize", 5);
    assert_true(notes_mention(r, "the one the tsne experiment trained"));
    assert_true(notes_mention(r, "PF_VGG16_WEIGHTS"));
    /* Guided gradients: nonzero on much of the image, and not the plain
     * gradient (which is negative on about half of it). */
    assert_true(number(r, "guided_nonzero_fraction") > 0.2);
    assert_true(number(r, "guided_positive_fraction") > 0.1);
    assert_true(number(r, "plain_negative_fraction") > 0.1);
    /* Every unit went up. */
    const char *sets[] = {"conv1", "conv2", "hidden", "output"};
    const int counts[] = {8, 8, 8, 10};
    for (int s = 0; s < 4; s++) {
        char key[64];
        double before[16], after[16];
        snprintf(key, sizeof key, "%s_before", sets[s]);
        series(r, key, counts[s], before);
        snprintf(key, sizeof key, "%s_after", sets[s]);
        series(r, key, counts[s], after);
        for (int i = 0; i < counts[s]; i++)
            if (!(after[i] > before[i] + 0.1))
                fail_msg("%s unit %d: %g -> %g", sets[s], i, before[i], after[i]);
    }
    assert_true(number(r, "smallest_increase") > 0.1);
    cJSON_Delete(r);
}

static int make_dir(void **state)
{
    (void)state;
    snprintf(out_dir, sizeof out_dir, "%s", "/tmp/pf_lecture_understanding_XXXXXX");
    return mkdtemp(out_dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsne),
        cmocka_unit_test(test_visualize),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
