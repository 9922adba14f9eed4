/*
 * test_modules.c — section 12 of profond.h: modules, Sequential, model
 * files, printing, hooks and training mode.
 *
 * Two models are compared with PyTorch through the golden files written by
 * tests/golden/gen_models.py: the lecture's CNN (weights made by PyTorch
 * with torch.manual_seed(0), its eval output and the gradients of a
 * cross-entropy loss) and a model that uses every layer kind (trained a
 * little in PyTorch so that batch-norm statistics are not at their
 * defaults; eval output, gradients of every parameter and of the input,
 * and a training-mode batch norm). Both are built with the C constructors
 * and from specs, and must print exactly as PyTorch's repr
 * (tests/golden/model_repr.txt, which also lists the state_dict names).
 * Loading is checked to be all or nothing on every kind of bad file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

/* ---- Helpers --------------------------------------------------------------- */

#define LECTURE_SPEC                                                                                              \
    "conv2d(1,32,5) relu maxpool2d(3) conv2d(32,64,5) relu maxpool2d(2) flatten linear(256,200) relu "           \
    "linear(200,10)"

#define ALL_LAYERS_SPEC                                                                                           \
    "conv2d(1,4,3,stride=2,padding=1) batchnorm2d(4) leakyrelu(0.2) maxpool2d(3,stride=1,padding=1) "            \
    "convtranspose2d(4,3,3,stride=2,padding=1,output_padding=1) tanh "                                           \
    "conv2d(3,3,3,padding=2,dilation=2,bias=false) avgpool2d(2) adaptiveavgpool2d((3,3)) sigmoid flatten "       \
    "dropout(0.3) linear(27,5) batchnorm1d(5) relu unflatten(1,(5,1)) flatten"

static pf_module *lecture_cnn(pf_ctx *p)
{
    return pf_nn_sequential(p, PF_LAYERS(pf_nn_conv2d(p, 1, 32, 5, NULL), pf_nn_relu(p), pf_nn_max_pool2d(p, 3, 0, 0),
                                         pf_nn_conv2d(p, 32, 64, 5, NULL), pf_nn_relu(p), pf_nn_max_pool2d(p, 2, 0, 0),
                                         pf_nn_flatten(p, 1, -1), pf_nn_linear(p, 256, 200, true), pf_nn_relu(p),
                                         pf_nn_linear(p, 200, 10, true)));
}

/* The model of gen_models.py's all_layers(), with the C constructors. */
static pf_module *all_layers(pf_ctx *p)
{
    return pf_nn_sequential(
        p, PF_LAYERS(pf_nn_conv2d(p, 1, 4, 3, &(pf_conv_opts){.stride = 2, .padding = 1}), pf_nn_batch_norm2d(p, 4),
                     pf_nn_leaky_relu(p, 0.2), pf_nn_max_pool2d(p, 3, 1, 1),
                     pf_nn_conv_transpose2d(p, 4, 3, 3, &(pf_conv_opts){.stride = 2, .padding = 1, .output_padding = 1}),
                     pf_nn_tanh(p), pf_nn_conv2d(p, 3, 3, 3, &(pf_conv_opts){.padding = 2, .dilation = 2, .no_bias = true}),
                     pf_nn_avg_pool2d(p, 2, 0, 0), pf_nn_adaptive_avg_pool2d(p, 3, 3), pf_nn_sigmoid(p),
                     pf_nn_flatten(p, 1, -1), pf_nn_dropout(p, 0.3), pf_nn_linear(p, 27, 5, true),
                     pf_nn_batch_norm1d(p, 5), pf_nn_relu(p), pf_nn_unflatten(p, 1, PF_DIMS(5, 1)),
                     pf_nn_flatten(p, 1, -1)));
}

static pf_module *nested(pf_ctx *p)
{
    return pf_nn_sequential(p, PF_LAYERS(pf_nn_sequential(p, PF_LAYERS(pf_nn_linear(p, 2, 3, true), pf_nn_relu(p))),
                                         pf_nn_sequential(p, 0, NULL), pf_nn_linear(p, 3, 1, true)));
}

/* A small model with a parameter, every kind of buffer and an int64
 * tensor, for the file tests. */
static pf_module *small_model(pf_ctx *p)
{
    return pf_nn_sequential(p, PF_LAYERS(pf_nn_linear(p, 3, 2, true), pf_nn_batch_norm1d(p, 2)));
}

/* The text of section "== <model> <part>" of model_repr.txt (malloc'ed):
 * every line after the section's title up to the next title. */
static char *golden_section(const char *model, const char *part)
{
    char *text = pf_test_read_text(pf_test_path("golden/model_repr.txt"), NULL);
    assert_non_null(text);
    char title[128];
    snprintf(title, sizeof title, "== %s %s\n", model, part);
    char *start = strstr(text, title);
    assert_non_null(start);
    start += strlen(title);
    char *end = strstr(start, "\n== ");
    size_t len = end ? (size_t)(end - start) + 1 : strlen(start);
    char *out = malloc(len + 1);
    memcpy(out, start, len);
    out[len] = '\0';
    free(text);
    return out;
}

/* What pf_module_fprint writes (malloc'ed), through a tmpfile. */
static char *module_repr(const pf_module *m)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    pf_module_fprint(f, m);
    long size = ftell(f);
    rewind(f);
    char *text = malloc((size_t)size + 1);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    text[size] = '\0';
    fclose(f);
    return text;
}

static void assert_repr(const pf_module *m, const char *model)
{
    char *want = golden_section(model, "repr"), *got = module_repr(m);
    assert_string_equal(got, want);
    free(want);
    free(got);
}

/* The state of m, one line per tensor in the format of model_repr.txt's
 * state sections: "<name> [shape] <dtype> <parameter|buffer>". */
static char *state_listing(pf_module *m)
{
    pf_named_tensor *state;
    int n = pf_module_state(m, &state);
    PF_CHECK(n >= 0);
    size_t cap = 64 * (size_t)n + 1, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        char shape[128];
        len += (size_t)snprintf(out + len, cap - len, "%s %s %s %s\n", state[i].name,
                                pf_shape_str(state[i].tensor, shape, sizeof shape),
                                pf_dtype_name(state[i].tensor->dtype),
                                state[i].tensor->requires_grad ? "parameter" : "buffer");
    }
    return out;
}

static void assert_state_like_pytorch(pf_module *m, const char *model)
{
    char *want = golden_section(model, "state"), *got = state_listing(m);
    assert_string_equal(got, want);
    free(want);
    free(got);
}

/* Exact equality of dtype, shape and every value. */
static bool same_tensor(const pf_tensor *a, const pf_tensor *b)
{
    if (!a || !b || a->dtype != b->dtype || !pf_same_shape(a, b))
        return false;
    int64_t n = pf_numel(a);
    double *x = malloc(sizeof(double) * (size_t)(n + 1)), *y = malloc(sizeof(double) * (size_t)(n + 1));
    bool same = pf_copy_to_f64(a, x) && pf_copy_to_f64(b, y) && memcmp(x, y, sizeof(double) * (size_t)n) == 0;
    free(x);
    free(y);
    return same;
}

/* A copy of m's whole state in ctx, for comparing later. */
typedef struct snapshot {
    int n;
    pf_named_tensor *tensors;
} snapshot;

static snapshot take_snapshot(pf_ctx *ctx, pf_module *m)
{
    pf_named_tensor *state;
    snapshot s = {pf_module_state(m, &state), NULL};
    PF_CHECK(s.n > 0);
    s.tensors = pf_ctx_alloc(ctx, sizeof *s.tensors * (size_t)s.n);
    bool was = pf_set_grad_enabled(false);
    for (int i = 0; i < s.n; i++)
        s.tensors[i] = (pf_named_tensor){state[i].name, pf_clone(ctx, state[i].tensor)};
    pf_set_grad_enabled(was);
    return s;
}

static bool state_equals(pf_module *m, snapshot s)
{
    pf_named_tensor *state;
    if (pf_module_state(m, &state) != s.n)
        return false;
    for (int i = 0; i < s.n; i++)
        if (strcmp(state[i].name, s.tensors[i].name) != 0 || !same_tensor(state[i].tensor, s.tensors[i].tensor))
            return false;
    return true;
}

/* Every tensor of m's state equals the golden file's tensor of that name. */
static void assert_state_equals_file(pf_module *m, const pf_golden *g)
{
    pf_named_tensor *state;
    int n = pf_module_state(m, &state);
    assert_int_equal(n, g->count);
    for (int i = 0; i < n; i++)
        if (!same_tensor(state[i].tensor, pf_golden_get(g, state[i].name)))
            fail_msg("tensor %s differs from the file", state[i].name);
}

static pf_tensor *state_tensor(pf_module *m, const char *name)
{
    pf_named_tensor *state;
    int n = pf_module_state(m, &state);
    pf_tensor *t = pf_named_find(state, n, name);
    if (!t)
        fail_msg("the model has no tensor %s", name);
    return t;
}

/* A file name in the test's working folder (tests/ in the build tree), in a
 * static buffer. */
static const char *tmp_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "test_modules_%s.safetensors", name);
    return path;
}

/* ---- Structure: names, order, shapes, counts -------------------------------- */

static void check_lecture_structure(pf_module *m)
{
    PF_CHECK(m != NULL);
    assert_string_equal(pf_module_kind(m), "Sequential");
    assert_int_equal(pf_module_num_children(m), 10);
    const char *kinds[] = {"Conv2d", "ReLU",    "MaxPool2d", "Conv2d", "ReLU",
                           "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"};
    for (int i = 0; i < 10; i++) {
        assert_string_equal(pf_module_kind(pf_module_child(m, i)), kinds[i]);
        assert_int_equal(pf_module_num_children(pf_module_child(m, i)), 0);
    }
    assert_null(pf_module_child(m, 10));
    assert_null(pf_module_child(m, -1));
    assert_int_equal(pf_module_num_parameters(m), 105506);
    assert_state_like_pytorch(m, "lecture_cnn");

    pf_named_tensor *params;
    int np = pf_module_parameters(m, &params);
    assert_int_equal(np, 8);
    PF_ASSERT_SHAPE(params[0].tensor, 32, 1, 5, 5);
    PF_ASSERT_SHAPE(params[1].tensor, 32);
    PF_ASSERT_SHAPE(params[2].tensor, 64, 32, 5, 5);
    PF_ASSERT_SHAPE(params[3].tensor, 64);
    PF_ASSERT_SHAPE(params[4].tensor, 200, 256);
    PF_ASSERT_SHAPE(params[5].tensor, 200);
    PF_ASSERT_SHAPE(params[6].tensor, 10, 200);
    PF_ASSERT_SHAPE(params[7].tensor, 10);
    int na;
    pf_tensor **array = pf_module_parameter_array(m, &na);
    assert_int_equal(na, np);
    for (int i = 0; i < np; i++) {
        assert_ptr_equal(array[i], params[i].tensor);
        assert_true(params[i].tensor->requires_grad);
        assert_int_equal(params[i].tensor->dtype, PF_F32);
    }
}

static void test_lecture_cnn_structure(void **state)
{
    pf_ctx *p = *state;
    check_lecture_structure(lecture_cnn(p));
    check_lecture_structure(pf_model_from_spec(p, "lecture-cnn"));
    check_lecture_structure(pf_model_from_spec(p, LECTURE_SPEC));
}

static void test_all_layers_structure(void **state)
{
    pf_ctx *p = *state;
    pf_module *models[] = {all_layers(p), pf_model_from_spec(p, ALL_LAYERS_SPEC)};
    for (int k = 0; k < 2; k++) {
        pf_module *m = models[k];
        PF_CHECK(m != NULL);
        assert_int_equal(pf_module_num_children(m), 17);
        assert_state_like_pytorch(m, "all_layers");
        /* 40 + 8 + 111 + 81 + 140 + 10 parameters; buffers do not count. */
        assert_int_equal(pf_module_num_parameters(m), 390);
        pf_named_tensor *st, *params;
        assert_int_equal(pf_module_state(m, &st), 17);
        assert_int_equal(pf_module_parameters(m, &params), 11);
        /* Buffers start as PyTorch's: mean 0, variance 1, count 0 (int64). */
        PF_ASSERT_VALUES(state_tensor(m, "1.weight"), 0, 1, 1, 1, 1);
        PF_ASSERT_VALUES(state_tensor(m, "1.bias"), 0, 0, 0, 0, 0);
        PF_ASSERT_VALUES(state_tensor(m, "13.running_mean"), 0, 0, 0, 0, 0, 0);
        PF_ASSERT_VALUES(state_tensor(m, "13.running_var"), 0, 1, 1, 1, 1, 1);
        pf_tensor *count = state_tensor(m, "1.num_batches_tracked");
        assert_int_equal(count->dtype, PF_I64);
        assert_int_equal(count->ndim, 0);
        PF_ASSERT_VALUES(count, 0, 0);
    }
}

static void test_nested_structure(void **state)
{
    pf_ctx *p = *state;
    pf_module *m = nested(p);
    PF_CHECK(m != NULL);
    assert_state_like_pytorch(m, "nested");
    assert_repr(m, "nested");
    assert_int_equal(pf_module_num_parameters(m), 13);
    assert_string_equal(pf_module_kind(pf_module_child(m, 0)), "Sequential");
    assert_int_equal(pf_module_num_children(pf_module_child(m, 1)), 0);
    /* Children are not parents: the Sequential's state is its own, too. */
    pf_named_tensor *st;
    assert_int_equal(pf_module_state(pf_module_child(m, 0), &st), 2);
    assert_string_equal(st[0].name, "0.weight");
    /* An empty Sequential is the identity. */
    pf_tensor *x = pf_ones(p, PF_DIMS(2, 2));
    assert_ptr_equal(pf_forward(p, pf_module_child(m, 1), x), x);
    PF_CHECK(pf_forward(p, m, x) != NULL);
}

/* ---- Default initialisation -------------------------------------------------- */

/* Every value within +-bound; for a big tensor, spread over the whole range
 * uniformly: extremes near the bounds, mean near 0, variance bound^2/3 and
 * ten equal bins equally full. */
static void check_uniform(const pf_tensor *t, double bound, const char *name)
{
    int64_t n = pf_numel(t);
    double *v = malloc(sizeof(double) * (size_t)n);
    PF_CHECK(pf_copy_to_f64(t, v));
    double lo = INFINITY, hi = -INFINITY, sum = 0, sq = 0;
    int64_t bins[10] = {0};
    for (int64_t i = 0; i < n; i++) {
        if (!(v[i] >= -bound && v[i] <= bound))
            fail_msg("%s: element %lld = %g outside +-%g", name, (long long)i, v[i], bound);
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
        sum += v[i];
        sq += v[i] * v[i];
        int b = (int)((v[i] + bound) / (2 * bound) * 10);
        bins[b < 10 ? b : 9]++;
    }
    free(v);
    if (n < 2000)
        return;
    double mean = sum / (double)n, var = sq / (double)n - mean * mean;
    if (!(lo < -0.99 * bound && hi > 0.99 * bound))
        fail_msg("%s: range [%g, %g] does not reach +-%g", name, lo, hi, bound);
    if (!(fabs(mean) < 5 * bound / sqrt(3.0 * (double)n)))
        fail_msg("%s: mean %g", name, mean);
    if (!(fabs(var / (bound * bound / 3) - 1) < 0.05))
        fail_msg("%s: variance %g, expected %g", name, var, bound * bound / 3);
    for (int b = 0; b < 10; b++)
        if (!(fabs((double)bins[b] / (double)n - 0.1) < 5 * sqrt(0.09 / (double)n)))
            fail_msg("%s: bin %d holds %lld of %lld values", name, b, (long long)bins[b], (long long)n);
}

static void test_default_init(void **state)
{
    pf_ctx *p = *state;
    pf_manual_seed(0);
    pf_module *m = lecture_cnn(p);
    /* fan_in: in_channels * k * k for convolutions, in_features for Linear. */
    const double fan_in[] = {25, 25, 800, 800, 256, 256, 200, 200};
    pf_named_tensor *params;
    assert_int_equal(pf_module_parameters(m, &params), 8);
    for (int i = 0; i < 8; i++)
        check_uniform(params[i].tensor, 1 / sqrt(fan_in[i]), params[i].name);

    /* ConvTranspose2d's weight is [in, out, k, k]: its fan_in is out * k * k. */
    pf_module *t = pf_nn_conv_transpose2d(p, 64, 30, 4, NULL);
    check_uniform(state_tensor(t, "weight"), 1 / sqrt(30.0 * 16), "convtranspose2d weight");
    check_uniform(state_tensor(t, "bias"), 1 / sqrt(30.0 * 16), "convtranspose2d bias");
    /* No bias: the layer has only its weight. */
    pf_named_tensor *st;
    assert_int_equal(pf_module_state(pf_nn_linear(p, 4, 3, false), &st), 1);
    assert_int_equal(pf_module_state(pf_nn_conv2d(p, 4, 3, 3, &(pf_conv_opts){.no_bias = true}), &st), 1);

    /* Reproducible from the seed, and the same draws for a spec as for
     * the constructors; another seed gives other values. */
    pf_manual_seed(42);
    pf_module *a = all_layers(p);
    pf_manual_seed(42);
    pf_module *b = pf_model_from_spec(p, ALL_LAYERS_SPEC);
    pf_manual_seed(43);
    pf_module *c = all_layers(p);
    snapshot sa = take_snapshot(p, a);
    assert_true(state_equals(b, sa));
    assert_false(state_equals(c, sa));
}

/* ---- Against PyTorch ----------------------------------------------------------- */

static void check_lecture_output(pf_ctx *p, pf_module *m)
{
    pf_golden io = pf_golden_load(p, "model_lecture_cnn_io");
    PF_CHECK(pf_module_load(m, pf_test_path("golden/model_lecture_cnn.safetensors")));
    pf_module_train(m, false);
    pf_ctx *step = pf_ctx_new(0);
    pf_tensor *y = pf_forward(step, m, pf_golden_get(&io, "input"));
    PF_ASSERT_GOLDEN(y, pf_golden_get(&io, "output"));
    pf_ctx_free(step);
}

static void test_lecture_cnn_golden(void **state)
{
    pf_ctx *p = *state;
    pf_golden weights = pf_golden_load(p, "model_lecture_cnn");
    pf_module *built = lecture_cnn(p), *spec = pf_model_from_spec(p, "lecture-cnn");
    check_lecture_output(p, built);
    check_lecture_output(p, spec);
    assert_state_equals_file(built, &weights);
    assert_state_equals_file(spec, &weights);
}

/* Gradients of cross_entropy(model(input), target) in training mode. The
 * golden file keeps only the first rows of the two big weights' gradients. */
static void test_lecture_cnn_gradients(void **state)
{
    pf_ctx *p = *state;
    pf_golden io = pf_golden_load(p, "model_lecture_cnn_io");
    pf_module *m = pf_model_from_spec(p, "lecture-cnn");
    PF_CHECK(pf_module_load(m, pf_test_path("golden/model_lecture_cnn.safetensors")));
    assert_true(pf_module_is_training(m));
    pf_ctx *step = pf_ctx_new(0);
    pf_tensor *loss = pf_cross_entropy(step, pf_forward(step, m, pf_golden_get(&io, "input")),
                                       pf_golden_get(&io, "target"), PF_REDUCTION_MEAN);
    PF_ASSERT_GOLDEN(loss, pf_golden_get(&io, "loss"));
    PF_CHECK(pf_backward(loss));
    pf_named_tensor *params;
    int n = pf_module_parameters(m, &params);
    assert_int_equal(n, 8);
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "grad.%s", params[i].name);
        pf_tensor *want = pf_golden_get(&io, name), *got = params[i].tensor->grad;
        PF_CHECK(got != NULL);
        if (want->shape[0] < got->shape[0])
            got = pf_narrow(step, got, 0, 0, want->shape[0]);
        PF_ASSERT_GOLDEN(got, want);
    }
    pf_ctx_free(step);
}

/* Eval mode (batch norm from running statistics, dropout off): the output
 * and the gradients of (output * gout).sum() for every parameter and the
 * input. */
static void check_all_layers_eval(pf_ctx *p, pf_module *m)
{
    pf_golden io = pf_golden_load(p, "model_all_layers_io");
    pf_golden weights = pf_golden_load(p, "model_all_layers");
    PF_CHECK(pf_module_load(m, pf_test_path("golden/model_all_layers.safetensors")));
    assert_state_equals_file(m, &weights);
    pf_module_train(m, false);
    pf_ctx *step = pf_ctx_new(0);
    pf_tensor *x = pf_requires_grad(pf_clone(step, pf_golden_get(&io, "input")), true);
    pf_tensor *y = pf_forward(step, m, x);
    PF_ASSERT_GOLDEN(y, pf_golden_get(&io, "output"));
    PF_CHECK(pf_backward_with(y, pf_golden_get(&io, "gout")));
    PF_ASSERT_GOLDEN(x->grad, pf_golden_get(&io, "grad_input"));
    pf_named_tensor *params;
    int n = pf_module_parameters(m, &params);
    assert_int_equal(n, 11);
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "grad.%s", params[i].name);
        PF_ASSERT_GOLDEN(params[i].tensor->grad, pf_golden_get(&io, name));
    }
    /* Evaluation changed no buffer. */
    assert_state_equals_file(m, &weights);
    pf_ctx_free(step);
}

static void test_all_layers_golden(void **state)
{
    pf_ctx *p = *state;
    check_all_layers_eval(p, all_layers(p));
    check_all_layers_eval(p, pf_model_from_spec(p, ALL_LAYERS_SPEC));
}

typedef struct capture {
    int calls;
    pf_ctx *ctx;
    pf_tensor *input, *output, *copy;
} capture;

static void capture_hook(pf_module *m, pf_tensor *input, pf_tensor *output, void *user)
{
    (void)m;
    capture *c = user;
    c->calls++;
    c->input = input;
    c->output = output;
    if (c->ctx)
        c->copy = pf_clone(c->ctx, pf_detach(c->ctx, output));
}

/* One training-mode forward from PyTorch's state: batch norm 1 normalises
 * with the batch's statistics and updates its running ones. */
static void test_all_layers_training_batch_norm(void **state)
{
    pf_ctx *p = *state;
    pf_golden io = pf_golden_load(p, "model_all_layers_io");
    pf_module *m = all_layers(p);
    PF_CHECK(pf_module_load(m, pf_test_path("golden/model_all_layers.safetensors")));
    PF_ASSERT_VALUES(state_tensor(m, "1.num_batches_tracked"), 0, 3);
    pf_ctx *step = pf_ctx_new(0);
    capture c = {.ctx = step};
    pf_module_set_forward_hook(pf_module_child(m, 2), capture_hook, &c);
    PF_CHECK(pf_forward(step, m, pf_golden_get(&io, "input")) != NULL);
    assert_int_equal(c.calls, 1);
    PF_ASSERT_GOLDEN(c.copy, pf_golden_get(&io, "train.2.output"));
    PF_ASSERT_GOLDEN(state_tensor(m, "1.running_mean"), pf_golden_get(&io, "train.1.running_mean"));
    PF_ASSERT_GOLDEN(state_tensor(m, "1.running_var"), pf_golden_get(&io, "train.1.running_var"));
    assert_true(same_tensor(state_tensor(m, "1.num_batches_tracked"), pf_golden_get(&io, "train.1.num_batches_tracked")));
    PF_ASSERT_VALUES(state_tensor(m, "13.num_batches_tracked"), 0, 4);
    pf_ctx_free(step);
}

static void test_repr(void **state)
{
    pf_ctx *p = *state;
    assert_repr(lecture_cnn(p), "lecture_cnn");
    assert_repr(pf_model_from_spec(p, "lecture-cnn"), "lecture_cnn");
    assert_repr(all_layers(p), "all_layers");
    assert_repr(pf_model_from_spec(p, ALL_LAYERS_SPEC), "all_layers");
    /* A single layer prints its own line. */
    char *one = module_repr(pf_nn_linear(p, 2, 3, false));
    assert_string_equal(one, "Linear(in_features=2, out_features=3, bias=False)\n");
    free(one);
    one = module_repr(pf_nn_sequential(p, 0, NULL));
    assert_string_equal(one, "Sequential()\n");
    free(one);
}

/* ---- Model files ------------------------------------------------------------------ */

static void test_save_load_roundtrip(void **state)
{
    pf_ctx *p = *state;
    pf_manual_seed(1);
    pf_module *a = all_layers(p);
    /* Two training forwards: running statistics and counts move. */
    pf_ctx *step = pf_ctx_new(0);
    for (int i = 0; i < 2; i++) {
        PF_CHECK(pf_forward(step, a, pf_randn(step, PF_DIMS(4, 1, 16, 16))) != NULL);
        pf_ctx_reset(step);
    }
    PF_ASSERT_VALUES(state_tensor(a, "13.num_batches_tracked"), 0, 2);
    const char *path = tmp_path("roundtrip");
    PF_CHECK(pf_module_save(a, path));

    pf_manual_seed(2);
    pf_module *b = pf_model_from_spec(p, ALL_LAYERS_SPEC);
    snapshot sa = take_snapshot(p, a);
    assert_false(state_equals(b, sa));
    PF_CHECK(pf_module_load(b, path));
    assert_true(state_equals(b, sa));

    /* The file holds exactly the state, in state_dict order. */
    pf_named_tensor *file;
    int nf = pf_safetensors_load(step, path, &file);
    assert_int_equal(nf, sa.n);
    for (int i = 0; i < nf; i++) {
        assert_string_equal(file[i].name, sa.tensors[i].name);
        assert_true(same_tensor(file[i].tensor, sa.tensors[i].tensor));
    }

    /* Same state, same outputs. */
    pf_module_train(a, false);
    pf_module_train(b, false);
    pf_tensor *x = pf_randn(step, PF_DIMS(3, 1, 16, 16));
    assert_true(same_tensor(pf_forward(step, a, x), pf_forward(step, b, x)));
    pf_ctx_free(step);
    remove(path);
}

/* A file written by profond from PyTorch's weights holds PyTorch's tensors
 * under PyTorch's names, so it goes back as it came. */
static void test_save_pytorch_weights(void **state)
{
    pf_ctx *p = *state;
    pf_golden weights = pf_golden_load(p, "model_lecture_cnn");
    pf_module *m = lecture_cnn(p);
    PF_CHECK(pf_module_load(m, pf_test_path("golden/model_lecture_cnn.safetensors")));
    const char *path = tmp_path("lecture");
    PF_CHECK(pf_module_save(m, path));
    pf_named_tensor *file;
    int nf = pf_safetensors_load(p, path, &file);
    assert_int_equal(nf, weights.count);
    for (int i = 0; i < nf; i++) {
        assert_string_equal(file[i].name, weights.tensors[i].name);
        assert_true(same_tensor(file[i].tensor, weights.tensors[i].tensor));
    }
    remove(path);
    /* Saving where no file can be written is an error, not a crash. */
    assert_false(pf_module_save(m, "no-such-folder/model.safetensors"));
    PF_ASSERT_ERROR("no-such-folder");
    assert_false(pf_module_save(m, NULL));
    PF_ASSERT_ERROR("NULL path");
}

/* Writes the small model's state with the tensor `drop` left out, `extra`
 * added, or `replace` put in place of the tensor of that name. Every other
 * tensor holds new values (42), so that a loader that copied before
 * checking would change the model. */
static void write_variant(pf_ctx *ctx, pf_module *m, const char *path, const char *drop, const pf_named_tensor *extra,
                          const pf_named_tensor *replace)
{
    pf_named_tensor *state;
    int n = pf_module_state(m, &state);
    pf_named_tensor *list = pf_ctx_alloc(ctx, sizeof *list * (size_t)(n + 1));
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (drop && strcmp(state[i].name, drop) == 0)
            continue;
        if (replace && strcmp(state[i].name, replace->name) == 0) {
            list[k++] = *replace;
            continue;
        }
        pf_tensor *t = pf_empty(ctx, state[i].tensor->dtype, state[i].tensor->ndim, state[i].tensor->shape);
        PF_CHECK(pf_fill_(t, 42));
        list[k++] = (pf_named_tensor){state[i].name, t};
    }
    if (extra)
        list[k++] = *extra;
    PF_CHECK(pf_safetensors_save(path, k, list));
}

static void test_load_errors(void **state)
{
    pf_ctx *p = *state;
    pf_module *m = small_model(p);
    snapshot before = take_snapshot(p, m);
    const char *path = tmp_path("bad");

    /* The variant machinery itself: nothing wrong, everything loads. */
    write_variant(p, m, path, NULL, NULL, NULL);
    pf_module *other = small_model(p);
    PF_CHECK(pf_module_load(other, path));
    PF_ASSERT_VALUES(state_tensor(other, "1.num_batches_tracked"), 0, 42);

    write_variant(p, m, path, "1.running_var", NULL, NULL);
    assert_false(pf_module_load(m, path));
    PF_ASSERT_ERROR("missing tensor '1.running_var'");
    assert_true(state_equals(m, before));

    pf_named_tensor extra = {"2.weight", pf_zeros(p, PF_DIMS(2))};
    write_variant(p, m, path, NULL, &extra, NULL);
    assert_false(pf_module_load(m, path));
    PF_ASSERT_ERROR("unexpected tensor '2.weight'");
    assert_true(state_equals(m, before));

    /* The weight transposed: the shape is wrong (the count is right). */
    pf_named_tensor shape = {"0.weight", pf_zeros(p, PF_DIMS(3, 2))};
    write_variant(p, m, path, NULL, NULL, &shape);
    assert_false(pf_module_load(m, path));
    PF_ASSERT_ERROR("tensor '0.weight' is float32 [3,2] in the file but the model expects float32 [2,3]");
    assert_true(state_equals(m, before));

    /* The last tensor of the state wrong: every other one was fine. */
    pf_named_tensor count = {"1.num_batches_tracked", pf_zeros(p, 0, NULL)};
    write_variant(p, m, path, NULL, NULL, &count);
    assert_false(pf_module_load(m, path));
    PF_ASSERT_ERROR("tensor '1.num_batches_tracked' is float32 [] in the file but the model expects int64 []");
    assert_true(state_equals(m, before));

    pf_named_tensor dtype = {"0.bias", pf_to_dtype(p, pf_zeros(p, PF_DIMS(2)), PF_F64)};
    write_variant(p, m, path, NULL, NULL, &dtype);
    assert_false(pf_module_load(m, path));
    PF_ASSERT_ERROR("tensor '0.bias' is float64 [2]");
    assert_true(state_equals(m, before));

    /* Another model's file. */
    PF_CHECK(pf_module_save(pf_nn_sequential(p, PF_LAYERS(pf_nn_linear(p, 3, 2, true))), path));
    assert_false(pf_module_load(m, path));
    PF_ASSERT_ERROR("missing tensor '1.weight'");
    assert_true(state_equals(m, before));

    assert_false(pf_module_load(m, "no-such-file.safetensors"));
    PF_ASSERT_ERROR("no-such-file.safetensors: cannot open");
    assert_false(pf_module_load(m, "."));
    PF_ASSERT_ERROR("not a regular file");
    assert_false(pf_module_load(m, NULL));
    PF_ASSERT_ERROR("NULL path");
    assert_true(state_equals(m, before));
    remove(path);
}

/* Every proper prefix of a valid model file fails to load, names the file
 * and leaves the model as it was. */
static void test_load_truncated(void **state)
{
    pf_ctx *p = *state;
    pf_module *m = small_model(p);
    snapshot before = take_snapshot(p, m);
    char good[256], cut[256];
    snprintf(good, sizeof good, "%s", tmp_path("good"));
    snprintf(cut, sizeof cut, "%s", tmp_path("cut"));
    write_variant(p, m, good, NULL, NULL, NULL);
    FILE *f = fopen(good, "rb");
    assert_non_null(f);
    unsigned char bytes[4096];
    size_t size = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    assert_true(size > 100 && size < sizeof bytes);
    for (size_t len = 0; len < size; len++) {
        f = fopen(cut, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(bytes, 1, len, f), len);
        fclose(f);
        if (pf_module_load(m, cut))
            fail_msg("a file cut to %zu of %zu bytes loaded", len, size);
        PF_ASSERT_ERROR(cut);
        if (!state_equals(m, before))
            fail_msg("a file cut to %zu of %zu bytes changed the model", len, size);
    }
    /* The whole file loads. */
    PF_CHECK(pf_module_load(m, good));
    assert_false(state_equals(m, before));
    remove(good);
    remove(cut);
}

/* ---- Training mode, hooks, errors ---------------------------------------------------- */

static void test_train_mode(void **state)
{
    pf_ctx *p = *state;
    pf_module *m = pf_nn_sequential(p, PF_LAYERS(pf_nn_linear(p, 4, 4, true), pf_nn_dropout(p, 0.5),
                                                 pf_nn_sequential(p, PF_LAYERS(pf_nn_batch_norm1d(p, 2)))));
    pf_module *drop = pf_module_child(m, 1), *inner = pf_module_child(m, 2), *bn = pf_module_child(inner, 0);
    assert_true(pf_module_is_training(m) && pf_module_is_training(drop) && pf_module_is_training(bn));
    pf_module_train(m, false);
    assert_false(pf_module_is_training(m) || pf_module_is_training(pf_module_child(m, 0)) ||
                 pf_module_is_training(drop) || pf_module_is_training(inner) || pf_module_is_training(bn));
    pf_module_train(m, true);
    assert_true(pf_module_is_training(pf_module_child(m, 0)) && pf_module_is_training(bn));
    /* A child alone: the parent keeps its mode. */
    pf_module_train(bn, false);
    assert_false(pf_module_is_training(bn));
    assert_true(pf_module_is_training(m) && pf_module_is_training(inner));
    pf_module_train(m, true);
    assert_false(pf_module_is_training(NULL));

    /* Dropout zeroes about half and doubles the rest in training only. */
    pf_tensor *x = pf_ones(p, PF_DIMS(1000));
    pf_tensor *y = pf_forward(p, drop, x);
    double *v = malloc(sizeof(double) * 1000);
    PF_CHECK(pf_copy_to_f64(y, v));
    int zeros = 0;
    for (int i = 0; i < 1000; i++) {
        assert_true(v[i] == 0 || v[i] == 2);
        zeros += v[i] == 0;
    }
    free(v);
    assert_in_range(zeros, 400, 600);
    pf_module_train(m, false);
    assert_true(same_tensor(pf_forward(p, drop, x), x));

    /* Batch norm: running statistics and the count move only in training. */
    pf_tensor *mean = state_tensor(m, "2.0.running_mean"), *var = state_tensor(m, "2.0.running_var");
    pf_tensor *count = state_tensor(m, "2.0.num_batches_tracked");
    pf_tensor *batch = pf_from_f32(p, (float[]){1, 10, 3, 20, 5, 30}, PF_DIMS(3, 2));
    PF_CHECK(pf_forward(p, bn, batch) != NULL);
    PF_ASSERT_VALUES(mean, 0, 0, 0);
    PF_ASSERT_VALUES(var, 0, 1, 1);
    PF_ASSERT_VALUES(count, 0, 0);
    pf_module_train(m, true);
    for (int i = 0; i < 3; i++)
        PF_CHECK(pf_forward(p, bn, batch) != NULL);
    PF_ASSERT_VALUES(count, 0, 3);
    /* Batch mean (3, 20), unbiased variance (4, 100); momentum 0.1, three times. */
    double keep = 0.9 * 0.9 * 0.9;
    PF_ASSERT_VALUES(mean, 1e-5, 3 * (1 - keep), 20 * (1 - keep));
    PF_ASSERT_VALUES(var, 1e-4, keep + 4 * (1 - keep), keep + 100 * (1 - keep));
}

static void test_forward_hook(void **state)
{
    pf_ctx *p = *state;
    pf_module *m = pf_nn_sequential(p, PF_LAYERS(pf_nn_linear(p, 3, 4, true), pf_nn_relu(p), pf_nn_linear(p, 4, 2, true)));
    capture seq = {0}, layer[3] = {{0}};
    pf_module_set_forward_hook(m, capture_hook, &seq);
    for (int i = 0; i < 3; i++)
        pf_module_set_forward_hook(pf_module_child(m, i), capture_hook, &layer[i]);
    pf_tensor *x = pf_randn(p, PF_DIMS(5, 3));
    pf_tensor *y = pf_forward(p, m, x);
    PF_CHECK(y != NULL);
    assert_int_equal(seq.calls, 1);
    assert_ptr_equal(seq.input, x);
    assert_ptr_equal(seq.output, y);
    for (int i = 0; i < 3; i++)
        assert_int_equal(layer[i].calls, 1);
    assert_ptr_equal(layer[0].input, x);
    assert_ptr_equal(layer[1].input, layer[0].output);
    assert_ptr_equal(layer[2].input, layer[1].output);
    assert_ptr_equal(layer[2].output, y);
    PF_ASSERT_SHAPE(layer[0].output, 5, 4);

    /* Removed with NULL: no more calls there, the others go on. */
    pf_module_set_forward_hook(pf_module_child(m, 1), NULL, NULL);
    PF_CHECK(pf_forward(p, m, x) != NULL);
    assert_int_equal(layer[1].calls, 1);
    assert_int_equal(layer[0].calls, 2);
    assert_int_equal(seq.calls, 2);

    /* A failed forward calls no hook of the layer that failed. */
    assert_null(pf_forward(p, m, pf_randn(p, PF_DIMS(5, 7))));
    PF_ASSERT_ERROR("layer 0");
    assert_int_equal(layer[0].calls, 2);
    assert_int_equal(seq.calls, 2);
}

static void test_sequential_errors(void **state)
{
    pf_ctx *p = *state;
    pf_module *m = pf_model_from_spec(p, "lecture-cnn");
    /* 24x24 reaches the Linear with 64 features instead of 256. */
    assert_null(pf_forward(p, m, pf_zeros(p, PF_DIMS(2, 1, 24, 24))));
    PF_ASSERT_ERROR("layer 7 (Linear(in_features=256, out_features=200, bias=True)): pf_linear");
    /* 20x20 is too small for the last pooling already, as in PyTorch. */
    assert_null(pf_forward(p, m, pf_zeros(p, PF_DIMS(2, 1, 20, 20))));
    PF_ASSERT_ERROR("layer 5 (MaxPool2d(kernel_size=2");
    assert_null(pf_forward(p, m, pf_zeros(p, PF_DIMS(2, 3, 28, 28))));
    PF_ASSERT_ERROR("layer 0 (Conv2d(1, 32, kernel_size=(5, 5), stride=(1, 1))): pf_conv2d");
    /* Nested: both levels are named. */
    pf_module *n = nested(p);
    assert_null(pf_forward(p, n, pf_zeros(p, PF_DIMS(2, 5))));
    PF_ASSERT_ERROR("layer 0 (Sequential): layer 0 (Linear(in_features=2");
    /* Batch norm says what it expects. */
    assert_null(pf_forward(p, pf_nn_batch_norm2d(p, 3), pf_zeros(p, PF_DIMS(2, 3))));
    PF_ASSERT_ERROR("BatchNorm2d: expected a 4-D [N,C,H,W] input, got [2,3]");
    /* A NULL input is an earlier failure: nothing more is recorded. */
    assert_null(pf_forward(p, m, NULL));
    assert_true(pf_ok());
    assert_null(pf_forward(p, NULL, pf_zeros(p, PF_DIMS(1))));
    PF_ASSERT_ERROR("NULL module");
}

static void test_constructor_errors(void **state)
{
    pf_ctx *p = *state;
    assert_null(pf_nn_linear(p, 0, 3, true));
    PF_ASSERT_ERROR("pf_nn_linear: sizes must be positive");
    assert_null(pf_nn_conv2d(p, 1, 0, 3, NULL));
    PF_ASSERT_ERROR("pf_nn_conv2d: channels and kernel size must be positive");
    assert_null(pf_nn_conv2d(p, 1, 2, 3, &(pf_conv_opts){.output_padding = 1}));
    PF_ASSERT_ERROR("only for transposed");
    assert_null(pf_nn_conv_transpose2d(p, 1, 2, 3, &(pf_conv_opts){.stride = 2, .output_padding = 2}));
    PF_ASSERT_ERROR("output_padding (2) must be smaller than stride (2)");
    assert_null(pf_nn_conv2d(p, 1, 2, 3, &(pf_conv_opts){.padding = -1}));
    PF_ASSERT_ERROR("cannot be negative");
    assert_null(pf_nn_max_pool2d(p, 0, 0, 0));
    PF_ASSERT_ERROR("pf_nn_max_pool2d: kernel must be positive");
    assert_null(pf_nn_avg_pool2d(p, 2, -1, 0));
    PF_ASSERT_ERROR("pf_nn_avg_pool2d");
    assert_null(pf_nn_adaptive_avg_pool2d(p, 0, 3));
    PF_ASSERT_ERROR("output size must be positive");
    assert_null(pf_nn_batch_norm1d(p, 0));
    PF_ASSERT_ERROR("pf_nn_batch_norm1d: the number of features must be positive");
    assert_null(pf_nn_dropout(p, 1));
    PF_ASSERT_ERROR("p must be in [0, 1)");
    assert_null(pf_nn_unflatten(p, 1, 0, NULL));
    PF_ASSERT_ERROR("pf_nn_unflatten");
    assert_null(pf_nn_unflatten(p, 1, PF_DIMS(2, 0)));
    PF_ASSERT_ERROR("size 0 is not valid");
    assert_null(pf_nn_relu(NULL));
    PF_ASSERT_ERROR("NULL context");
    /* A layer that failed makes the Sequential fail with the layer's error. */
    assert_null(pf_nn_sequential(p, PF_LAYERS(pf_nn_relu(p), pf_nn_linear(p, -1, 2, true))));
    PF_ASSERT_ERROR("pf_nn_linear: sizes must be positive");
    assert_null(pf_nn_sequential(p, 2, (pf_module *const[]){pf_nn_relu(p), NULL}));
    PF_ASSERT_ERROR("pf_nn_sequential: layer 1 is NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lecture_cnn_structure, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_all_layers_structure, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_nested_structure, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_default_init, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_lecture_cnn_golden, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_lecture_cnn_gradients, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_all_layers_golden, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_all_layers_training_batch_norm, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_repr, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_save_load_roundtrip, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_save_pytorch_weights, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_load_truncated, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_train_mode, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_forward_hook, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_sequential_errors, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_constructor_errors, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
