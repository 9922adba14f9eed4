/*
 * test_pretrained.c — torchvision's AlexNet and VGG16 (pf_model_alexnet,
 * pf_model_vgg16, the "alexnet"/"vgg16" specs), modules with named parts
 * (pf_nn_named_sequential), and `profond classify` end to end.
 *
 * - The full-size models have torchvision's state_dict names and shapes,
 *   in order, and its repr (tests/golden/pretrained/arch.txt), except that
 *   torchvision's ReLUs print "inplace=True", a flag profond has no use for.
 * - AlexNet / 32 with weights from torch.save (.pth) and from safetensors
 *   gives PyTorch's logits within 1e-4 on a PNG and a JPEG, resized and
 *   cropped, with the slide's and ImageNet's normalisations, and on the
 *   whole image as the slide did; VGG16 / 64 likewise on a random input.
 * - `profond classify` prints PyTorch's top 15 in the slide's format, and
 *   without weights says where to download them.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testing.h"

#define GOLDEN(name) PF_TEST_DIR "/golden/pretrained/" name

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* The text of arch.txt's section "== NAME KIND" (malloc'd). */
static char *arch_section(const char *name, const char *kind)
{
    char *all = read_text(GOLDEN("arch.txt")), header[64];
    snprintf(header, sizeof header, "== %s %s\n", name, kind);
    char *start = strstr(all, header);
    assert_non_null(start);
    start += strlen(header);
    char *end = strstr(start, "\n== ");
    size_t len = end ? (size_t)(end - start) + 1 : strlen(start);
    char *section = malloc(len + 1);
    memcpy(section, start, len);
    section[len] = '\0';
    free(all);
    return section;
}

/* Removes every occurrence of `what` from text, in place. */
static void erase_all(char *text, const char *what)
{
    size_t n = strlen(what);
    for (char *p; (p = strstr(text, what));)
        memmove(p, p + n, strlen(p + n) + 1);
}

static void check_architecture(pf_module *m, const char *name)
{
    PF_CHECK(m != NULL);
    /* state_dict names and shapes, in order */
    pf_named_tensor *state;
    int n = pf_module_state(m, &state);
    size_t cap = 1 << 16, len = 0;
    char *mine = malloc(cap);
    for (int i = 0; i < n; i++) {
        char shape[128];
        len += (size_t)snprintf(mine + len, cap - len, "%s %s\n", state[i].name,
                                pf_shape_str(state[i].tensor, shape, sizeof shape));
    }
    char *theirs = arch_section(name, "state");
    assert_string_equal(mine, theirs);
    free(theirs);
    /* repr */
    FILE *f = tmpfile();
    pf_module_fprint(f, m);
    long size = ftell(f);
    rewind(f);
    char *repr = calloc(1, (size_t)size + 1);
    assert_int_equal(fread(repr, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    theirs = arch_section(name, "repr");
    erase_all(theirs, "inplace=True");
    assert_string_equal(repr, theirs);
    free(theirs);
    free(repr);
    free(mine);
}

static void test_full_size_architectures(void **state)
{
    (void)state;
    pf_ctx *params = pf_ctx_new(0);
    pf_module *alexnet = pf_model_alexnet(params, 1000);
    check_architecture(alexnet, "alexnet");
    assert_int_equal(pf_module_num_parameters(alexnet), 61100840);
    assert_string_equal(pf_module_kind(alexnet), "AlexNet");
    pf_ctx_reset(params);
    pf_module *vgg = pf_model_from_spec(params, "vgg16");
    check_architecture(vgg, "vgg16");
    assert_int_equal(pf_module_num_parameters(vgg), 138357544);
    pf_ctx_free(params);
}

/* AlexNet / 32's logits for one way of preparing one image. */
static void check_logits(pf_ctx *ctx, pf_module *model, const pf_golden *g, const char *image,
                         pf_image_prep prep, const char *expected)
{
    pf_tensor *x = pf_image_prepare(ctx, pf_image_load(ctx, image), &prep);
    pf_tensor *y = pf_forward(ctx, model, x);
    PF_ASSERT_SHAPE(y, 1, 1000);
    PF_ASSERT_CLOSE(y, pf_golden_get(g, expected), 0, 1e-4);
}

static void test_alexnet_matches_pytorch(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "pretrained/expected");
    const char *files[] = {GOLDEN("alexnet32.pth"), GOLDEN("alexnet32.safetensors")};
    bool grad = pf_set_grad_enabled(false);
    for (int i = 0; i < 2; i++) {
        pf_module *m = pf_model_from_spec(ctx, "alexnet/32");
        PF_CHECK(m && pf_module_load(m, files[i]));
        pf_module_train(m, false);
        check_logits(ctx, m, &g, GOLDEN("photo.png"), (pf_image_prep){256, 224, PF_NORM_SLIDE}, "alexnet.slide");
        check_logits(ctx, m, &g, GOLDEN("photo.png"), (pf_image_prep){256, 224, PF_NORM_IMAGENET},
                     "alexnet.imagenet");
        check_logits(ctx, m, &g, GOLDEN("photo.png"), (pf_image_prep){0, 0, PF_NORM_SLIDE}, "alexnet.whole");
        check_logits(ctx, m, &g, GOLDEN("photo.jpg"), (pf_image_prep){256, 224, PF_NORM_SLIDE},
                     "alexnet.jpg_slide");
    }
    pf_set_grad_enabled(grad);
}

static void test_vgg16_matches_pytorch(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "pretrained/expected");
    pf_module *m = pf_model_vgg16_scaled(ctx, 10, 64);
    PF_CHECK(m && pf_module_load(m, GOLDEN("vgg16_64.pth")));
    pf_module_train(m, false);
    pf_tensor *y = pf_forward(ctx, m, pf_golden_get(&g, "vgg.input"));
    PF_ASSERT_CLOSE(y, pf_golden_get(&g, "vgg.logits"), 0, 1e-4);
    /* Children by name; the flatten step has none. */
    assert_int_equal(pf_module_num_children(m), 4);
    assert_string_equal(pf_module_child_name(m, 0), "features");
    assert_null(pf_module_child_name(m, 2));
    assert_string_equal(pf_module_kind(pf_module_child(m, 2)), "Flatten");
    assert_null(pf_module_child_name(pf_module_child(m, 0), 0));
}

static void test_zoo_specs_and_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_module *a = pf_model_from_spec(ctx, "alexnet/32"), *b = pf_model_alexnet_scaled(ctx, 1000, 32);
    PF_CHECK(a && b);
    assert_int_equal(pf_module_num_parameters(a), pf_module_num_parameters(b));
    PF_CHECK(pf_model_from_spec(ctx, "alexnet/0") == NULL);
    PF_ASSERT_ERROR("width divisor N in 1..4096");
    PF_CHECK(pf_model_from_spec(ctx, "vgg16/x") == NULL);
    PF_ASSERT_ERROR("vgg16/N");
    PF_CHECK(pf_model_from_spec(ctx, "alexnets") == NULL);
    PF_ASSERT_ERROR("unknown layer 'alexnets'");
    PF_CHECK(pf_model_alexnet(ctx, 0) == NULL);
    PF_ASSERT_ERROR("classes must be");
    PF_CHECK(pf_model_vgg16_scaled(ctx, 10, 0) == NULL);
    PF_ASSERT_ERROR("divisor");
    /* Too small an image for AlexNet: the error names the layer. */
    pf_module_train(a, false);
    PF_CHECK(pf_forward(ctx, a, pf_zeros(ctx, PF_DIMS(1, 3, 32, 32))) == NULL);
    PF_ASSERT_ERROR("features (Sequential): layer");
}

static void test_named_sequential(void **state)
{
    pf_ctx *ctx = *state;
    pf_module *m = pf_nn_named_sequential(
        ctx, "Net", 3, (const char *[]){"body", NULL, "head"},
        (pf_module *[]){pf_nn_sequential(ctx, PF_LAYERS(pf_nn_linear(ctx, 4, 3, true), pf_nn_relu(ctx))),
                        pf_nn_flatten(ctx, 1, -1), pf_nn_linear(ctx, 3, 2, false)});
    PF_CHECK(m != NULL);
    pf_named_tensor *s;
    assert_int_equal(pf_module_state(m, &s), 3);
    assert_string_equal(s[0].name, "body.0.weight");
    assert_string_equal(s[1].name, "body.0.bias");
    assert_string_equal(s[2].name, "head.weight");
    PF_ASSERT_SHAPE(pf_forward(ctx, m, pf_ones(ctx, PF_DIMS(5, 4))), 5, 2);
    char buf[1024] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    pf_module_fprint(f, m);
    fclose(f);
    assert_string_equal(buf, "Net(\n"
                             "  (body): Sequential(\n"
                             "    (0): Linear(in_features=4, out_features=3, bias=True)\n"
                             "    (1): ReLU()\n"
                             "  )\n"
                             "  (head): Linear(in_features=3, out_features=2, bias=False)\n"
                             ")\n");
    /* Save and load through the names. */
    char path[] = "/tmp/pf_named_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    PF_CHECK(pf_module_save(m, path));
    PF_CHECK(pf_module_load(m, path));
    remove(path);
    /* Errors. */
    pf_module *lin = pf_nn_linear(ctx, 2, 2, true);
    PF_CHECK(pf_nn_named_sequential(ctx, NULL, 2, (const char *[]){"a", "a"}, (pf_module *[]){lin, lin}) == NULL);
    PF_ASSERT_ERROR("two layers are named 'a'");
    PF_CHECK(pf_nn_named_sequential(ctx, NULL, 1, (const char *[]){"a.b"}, (pf_module *[]){lin}) == NULL);
    PF_ASSERT_ERROR("has a '.'");
    PF_CHECK(pf_nn_named_sequential(ctx, NULL, 1, (const char *[]){NULL}, (pf_module *[]){lin}) == NULL);
    PF_ASSERT_ERROR("has tensors, so it needs a name");
    PF_CHECK(pf_nn_named_sequential(ctx, NULL, 1, (const char *[]){"a"}, (pf_module *[]){NULL}) == NULL);
    PF_ASSERT_ERROR("layer 0 is NULL");
}

/* ---- profond classify ---- */

typedef struct run_result {
    int status;
    char *out, *err;
} run_result;

static run_result run(const char *args)
{
    char command[4096];
    snprintf(command, sizeof command, "'%s' %s </dev/null >/tmp/pf_classify_out.txt 2>/tmp/pf_classify_err.txt",
             PF_PROFOND_BIN, args);
    int status = system(command);
    run_result r = {WIFEXITED(status) ? WEXITSTATUS(status) : 128, read_text("/tmp/pf_classify_out.txt"),
                    read_text("/tmp/pf_classify_err.txt")};
    remove("/tmp/pf_classify_out.txt");
    remove("/tmp/pf_classify_err.txt");
    return r;
}

static void test_classify_command(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "pretrained/expected");
    const float *logits = pf_data_f32(pf_golden_get(&g, "alexnet.slide"));
    /* PyTorch's top 15, in the slide's format. */
    int order[1000];
    for (int i = 0; i < 1000; i++)
        order[i] = i;
    for (int i = 0; i < 15; i++)
        for (int j = i + 1; j < 1000; j++)
            if (logits[order[j]] > logits[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    const char *weights[] = {GOLDEN("alexnet32.pth"), GOLDEN("alexnet32.safetensors")};
    for (int w = 0; w < 2; w++) {
        char args[1024];
        snprintf(args, sizeof args, "classify --model alexnet/32 --weights '%s' --threads 2 '%s'", weights[w],
                 GOLDEN("photo.png"));
        run_result r = run(args);
        if (r.status != 0 || r.err[0]) {
            print_error("classify: status %d\n%s%s", r.status, r.out, r.err);
            fail();
        }
        char *line = r.out;
        for (int k = 0; k < 15; k++) {
            char *end = strchr(line, '\n');
            assert_non_null(end);
            *end = '\0';
            int rank;
            double score;
            char name[256];
            if (sscanf(line, "#%d (%lf) %255[^\n]", &rank, &score, name) != 3) {
                print_error("line %d: '%s'\n", k + 1, line);
                fail();
            }
            assert_int_equal(rank, k + 1);
            assert_string_equal(name, pf_imagenet_class(order[k]));
            assert_true(fabs(score - logits[order[k]]) <= 0.005 + 1e-4);
            line = end + 1;
        }
        assert_string_equal(line, "");
        free(r.out);
        free(r.err);
    }
    /* --top and ImageNet's normalisation. */
    char args[1024];
    snprintf(args, sizeof args, "classify --model alexnet/32 --weights '%s' --top 3 --imagenet-norm '%s'",
             GOLDEN("alexnet32.pth"), GOLDEN("photo.jpg"));
    run_result r = run(args);
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "#1 (", 4) == 0 && strstr(r.out, "\n#3 (") && !strstr(r.out, "#4"));
    free(r.out);
    free(r.err);

    /* No weights, missing weights: how to get them, and a non-zero status. */
    static const char *bad[] = {"classify '" GOLDEN("photo.png") "'",
                                "classify --weights /nonexistent/alexnet.pth '" GOLDEN("photo.png") "'"};
    for (int i = 0; i < 2; i++) {
        r = run(bad[i]);
        assert_int_not_equal(r.status, 0);
        assert_non_null(strstr(r.err, "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"));
        assert_non_null(strstr(r.err, "--weights"));
        free(r.out);
        free(r.err);
    }
    /* A hostile weights file, an image that is none: one line, status 1. */
    snprintf(args, sizeof args, "classify --weights '%s' '%s'", GOLDEN("hostile_system.pth"), GOLDEN("photo.png"));
    r = run(args);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "'posix.system' is not allowed"));
    free(r.out);
    free(r.err);
    snprintf(args, sizeof args, "classify --model alexnet/32 --weights '%s' '%s'", GOLDEN("alexnet32.pth"),
             GOLDEN("arch.txt"));
    r = run(args);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "not a PNG or JPEG image"));
    free(r.out);
    free(r.err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_size_architectures, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_alexnet_matches_pytorch, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_vgg16_matches_pytorch, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_zoo_specs_and_errors, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_named_sequential, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_classify_command, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
