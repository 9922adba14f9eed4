/*
 * test_lecture_basics.c — the lecture experiments losses, mlp, conv1d and
 * autograd (examples/lecture/), run at quick sizes into a temporary folder;
 * each test reads the experiment's results.json and checks the slide's claim:
 *
 *   losses    MSE and cross-entropy equal PyTorch's nn.MSELoss and
 *             nn.CrossEntropyLoss (golden/lecture_losses.safetensors);
 *   mlp       the output and parameter shapes printed on the slide;
 *   conv1d    (0,0,0,0,1,2,3,4,4,4,4) ⊛ (-1,1) = (0,0,0,1,1,1,1,0,0,0)
 *             exactly, the motif found where it was planted, and the
 *             parameter counts (256·256·3)² = 38654705664 and 84;
 *   autograd  the gradient (2, 4, 8), and the two-layer tanh network's
 *             gradients within 1e-5 of PyTorch's;
 * and that every figure an experiment registers is a PNG file.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lecture.h"
#include "lecture_testing.h"
#include "testing.h"

static char out_dir[256];

/* Runs experiment `name` (quick) and returns its parsed results.json; checks
 * that each registered figure is a PNG file. */
static cJSON *run(const char *name)
{
    const lecture_experiment *e = lecture_find(name);
    assert_non_null(e);
    assert_int_equal(lecture_run_experiment(e, out_dir, true, 0, NULL, 0), 0);

    cJSON *results = pf_test_read_results(out_dir, name);

    const cJSON *figures = cJSON_GetObjectItem(results, "figures"), *fig;
    assert_true(cJSON_GetArraySize(figures) > 0);
    cJSON_ArrayForEach(fig, figures) {
        const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(fig, "file"));
        assert_non_null(file);
        char path[512];
        snprintf(path, sizeof path, "%s/%s/%s", out_dir, name, file);
        pf_test_assert_png_header(path, 0, 0, 0);
    }
    return results;
}

static const char *text(const cJSON *results, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(results, "numbers"), key));
    if (!s)
        fail_msg("results.json has no text %s", key);
    return s;
}

static void assert_close(double actual, double expected, double tol, const char *what)
{
    if (!(fabs(actual - expected) <= tol))
        fail_msg("%s: %.10g, expected %.10g (tolerance %.2g)", what, actual, expected, tol);
}

static void test_losses_equal_pytorch(void **state)
{
    pf_golden g = pf_golden_load(*state, "lecture_losses");
    double mse = pf_item(pf_golden_get(&g, "mse.out")), ce = pf_item(pf_golden_get(&g, "ce.out"));
    double per_sample[5];
    PF_CHECK(pf_copy_to_f64(pf_golden_get(&g, "ce.per_sample"), per_sample));

    cJSON *r = run("losses");
    assert_close(pf_test_number(r, "mse"), mse, 1e-5 * mse, "MSE vs nn.MSELoss");
    assert_close(pf_test_number(r, "mse_formula"), mse, 1e-5 * mse, "the slide's MSE formula vs nn.MSELoss");
    assert_close(pf_test_number(r, "cross_entropy"), ce, 1e-5 * ce, "cross-entropy vs nn.CrossEntropyLoss");
    assert_close(pf_test_number(r, "cross_entropy_formula"), ce, 1e-5 * ce, "-mean log softmax vs nn.CrossEntropyLoss");
    double ours[5];
    pf_test_series_n(r, "cross_entropy_per_sample", ours, 5);
    for (int i = 0; i < 5; i++)
        assert_close(ours[i], per_sample[i], 1e-5 * per_sample[i], "per-sample cross-entropy");
    /* The slide's formula, as written, is the opposite of the loss. */
    assert_close(pf_test_number(r, "slide_formula_as_written"), -ce, 1e-5 * ce, "the slide's formula without minus");
    /* The PyTorch constants written in losses.c are the golden file's. */
    assert_close(pf_test_number(r, "mse_pytorch"), mse, 1e-8, "PYTORCH_MSE in losses.c");
    assert_close(pf_test_number(r, "cross_entropy_pytorch"), ce, 1e-8, "PYTORCH_CROSS_ENTROPY in losses.c");
    assert_true(pf_test_number(r, "mse_difference") < 1e-6);
    assert_true(pf_test_number(r, "cross_entropy_difference") < 1e-6);
    cJSON_Delete(r);
}

static void test_mlp_shapes(void **state)
{
    (void)state;
    cJSON *r = run("mlp");
    assert_string_equal(text(r, "linear_output_shape"), "[5,1]");
    assert_string_equal(text(r, "linear_parameter_shapes"), "[1,3] [1]");
    assert_string_equal(text(r, "sequential_output_shape"), "[5,2]");
    assert_string_equal(text(r, "sequential_parameter_shapes"), "[9,3] [9] [2,9] [2] [2,2] [2]");
    assert_true(pf_test_number(r, "linear_parameter_count") == 4);
    assert_true(pf_test_number(r, "sequential_parameter_count") == 27 + 9 + 18 + 2 + 4 + 2);
    cJSON_Delete(r);
}

static void test_conv1d(void **state)
{
    (void)state;
    cJSON *r = run("conv1d");
    static const double expected[10] = {0, 0, 0, 1, 1, 1, 1, 0, 0, 0};
    double d[10];
    pf_test_series_n(r, "derivative", d, 10);
    for (int i = 0; i < 10; i++)
        if (d[i] != expected[i])
            fail_msg("derivative[%d] = %g, expected %g", i, d[i], expected[i]);
    assert_string_equal(text(r, "derivative_text"), "(0, 0, 0, 1, 1, 1, 1, 0, 0, 0)");

    /* The detector finds the motif exactly where it was planted, and nowhere else. */
    double planted[3], found[3];
    pf_test_series_n(r, "detector_planted", planted, 3);
    pf_test_series_n(r, "detector_found", found, 3);
    for (int i = 0; i < 3; i++)
        assert_true(found[i] == planted[i]);
    assert_true(pf_test_number(r, "detector_largest_off_motif_response") < 0.7);

    assert_string_equal(text(r, "conv2d_output_shape"), "[1,3,46,46]");
    assert_true(pf_test_number(r, "dense_parameters") == 38654705664.0);
    assert_true(fabs(pf_test_number(r, "dense_parameters") - 3.87e10) < 0.005e10);
    assert_true(pf_test_number(r, "conv_parameters") == 3 * 3 * 3 * 3 + 3);
    cJSON_Delete(r);
}

static void test_autograd(void **state)
{
    (void)state;
    cJSON *r = run("autograd");
    double g[3];
    pf_test_series_n(r, "grad_sum_of_squares", g, 3);
    assert_true(g[0] == 2 && g[1] == 4 && g[2] == 8);

    static const char *const names[4] = {"w1", "b1", "w2", "b2"};
    char key[64];
    for (int i = 0; i < 4; i++) {
        /* The centered network has real gradients, equal to PyTorch's. */
        snprintf(key, sizeof key, "centered_max_abs_grad_%s", names[i]);
        assert_true(pf_test_number(r, key) > 0.1);
        snprintf(key, sizeof key, "centered_max_difference_%s", names[i]);
        assert_true(pf_test_number(r, key) < 1e-5);
        /* The slide's own network is saturated: zero gradients, in both. */
        snprintf(key, sizeof key, "slide_max_abs_grad_%s", names[i]);
        assert_true(pf_test_number(r, key) == 0);
        snprintf(key, sizeof key, "slide_max_difference_%s", names[i]);
        assert_true(pf_test_number(r, key) < 1e-5);
    }
    assert_true(pf_test_number(r, "slide_min_preactivation") > 5);
    assert_true(pf_test_number(r, "centered_loss_difference") < 1e-6);
    assert_true(pf_test_number(r, "slide_loss_difference") < 1e-6);
    assert_true(pf_test_number(r, "max_gradient_difference") < 1e-5);
    cJSON_Delete(r);
}

int main(void)
{
    if (!pf_test_make_temp_dir(out_dir, sizeof out_dir, "lecture_basics"))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_losses_equal_pytorch, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_mlp_shapes, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_conv1d, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_autograd, pf_test_setup, pf_test_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pf_test_remove_dir(out_dir);
    return failed;
}
