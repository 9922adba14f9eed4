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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lecture.h"
#include "lecture_testing.h"
#include "testing.h"

#define DATA PF_SHARED_DATA_DIR "/mnist"

static char out_dir[256];

/* Runs experiment `name` (quick) and returns its parsed results.json, after
 * checking that every figure it lists decodes. */
static cJSON *run(const char *name, int min_figures)
{
    const lecture_experiment *e = lecture_find(name);
    assert_non_null(e);
    assert_int_equal(lecture_run_experiment(e, out_dir, true, 0, DATA, 0), 0);
    cJSON *r = pf_test_read_results(out_dir, name);
    const cJSON *figures = cJSON_GetObjectItem(r, "figures"), *fig;
    assert_true(cJSON_GetArraySize(figures) >= min_figures);
    cJSON_ArrayForEach(fig, figures)
    {
        const cJSON *file = cJSON_GetObjectItem(fig, "file"), *caption = cJSON_GetObjectItem(fig, "caption");
        assert_true(cJSON_IsString(file) && cJSON_IsString(caption) && strlen(caption->valuestring) > 20);
        char path[512];
        snprintf(path, sizeof path, "%s/%s/%s", out_dir, name, file->valuestring);
        pf_test_assert_png_decodes(path, 32);
    }
    return r;
}

static void test_tsne(void **state)
{
    (void)state;
    cJSON *r = run("tsne", 1);
    double dims[5], map[5], layer[5], kl[5];
    pf_test_series_n(r, "dimensions", dims, 5);
    assert_true(dims[0] == 784 && dims[1] == 32 * 8 * 8 && dims[2] == 64 * 2 * 2 && dims[3] == 200 && dims[4] == 10);
    pf_test_series_n(r, "knn_accuracy_map", map, 5);
    pf_test_series_n(r, "knn_accuracy_layer", layer, 5);
    pf_test_series_n(r, "kl_divergence", kl, 5);
    print_message("1-NN accuracy of the maps: %.3f %.3f %.3f %.3f %.3f\n", map[0], map[1], map[2], map[3], map[4]);
    /* The slides' claim, on a network trained for one quick epoch (test
     * error 7.5%; maps 0.82 -> 0.89 on 500 digits): the last layer's map
     * keeps the classes apart better than the input's. */
    assert_true(map[4] > map[0]);
    assert_true(map[0] > 0.5); /* chance is 0.1: the input already has structure */
    for (int l = 0; l < 5; l++)
        assert_true(layer[l] > 0.5 && layer[l] <= 1 && kl[l] > 0 && kl[l] < 5);
    assert_true(pf_test_number(r, "points") == 500);
    assert_true(pf_test_number(r, "network_test_error_percent") < 20);
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
    assert_true(pf_test_notes_contain(r, "the one the tsne experiment trained"));
    assert_true(pf_test_notes_contain(r, "PF_VGG16_WEIGHTS"));
    /* Guided gradients: nonzero on much of the image, and not the plain
     * gradient (which is negative on about half of it). */
    assert_true(pf_test_number(r, "guided_nonzero_fraction") > 0.2);
    assert_true(pf_test_number(r, "guided_positive_fraction") > 0.1);
    assert_true(pf_test_number(r, "plain_negative_fraction") > 0.1);
    /* Every unit went up. */
    const char *sets[] = {"conv1", "conv2", "hidden", "output"};
    const int counts[] = {8, 8, 8, 10};
    for (int s = 0; s < 4; s++) {
        char key[64];
        double before[16], after[16];
        snprintf(key, sizeof key, "%s_before", sets[s]);
        pf_test_series_n(r, key, before, counts[s]);
        snprintf(key, sizeof key, "%s_after", sets[s]);
        pf_test_series_n(r, key, after, counts[s]);
        for (int i = 0; i < counts[s]; i++)
            if (!(after[i] > before[i] + 0.1))
                fail_msg("%s unit %d: %g -> %g", sets[s], i, before[i], after[i]);
    }
    assert_true(pf_test_number(r, "smallest_increase") > 0.1);
    cJSON_Delete(r);
}

static int make_dir(void **state)
{
    (void)state;
    return pf_test_make_temp_dir(out_dir, sizeof out_dir, "lecture_understanding") ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    return pf_test_remove_dir(out_dir) ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsne),
        cmocka_unit_test(test_visualize),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
