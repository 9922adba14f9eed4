/*
 * test_spec.c — pf_model_from_spec: models from text.
 *
 * Valid specs (positional, keyword and mixed arguments, any case,
 * underscores, tuples, flags, the named models, spacing) must build the
 * layers PyTorch's constructors would, which is checked through their repr
 * (the same text as PyTorch's, see test_modules.c) and parameter shapes.
 * Invalid specs must give one error that names the problem, build nothing
 * and allocate nothing big. The regression cases at the end came from
 * fuzzing (fuzz/fuzz_spec.c) and from reading the parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

/* ---- Helpers --------------------------------------------------------------- */

/* What pf_module_fprint writes (malloc'ed). */
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

/* The spec builds a Sequential whose layers print as the n lines given. */
static pf_module *check_layers(pf_ctx *p, const char *spec, int n, const char *const *lines)
{
    pf_module *m = pf_model_from_spec(p, spec);
    if (!m)
        fail_msg("spec \"%s\" failed: %s", spec, pf_error() ? pf_error() : "(no error)");
    assert_string_equal(pf_module_kind(m), "Sequential");
    assert_int_equal(pf_module_num_children(m), n);
    for (int i = 0; i < n; i++) {
        char *got = module_repr(pf_module_child(m, i));
        size_t len = strlen(got);
        assert_true(len > 0 && got[len - 1] == '\n');
        got[len - 1] = '\0';
        if (strcmp(got, lines[i]) != 0)
            fail_msg("spec \"%s\", layer %d: got \"%s\", expected \"%s\"", spec, i, got, lines[i]);
        free(got);
    }
    return m;
}

#define CHECK_LAYERS(p, spec, ...)                                                                    \
    check_layers((p), (spec), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
                 (const char *[]){__VA_ARGS__})

/* The spec fails with an error containing every needle; nothing big was
 * allocated (the context stays under 16 MiB). */
static void check_error(pf_ctx *p, const char *spec, const char *needle, const char *needle2)
{
    pf_module *m = pf_model_from_spec(p, spec);
    if (m)
        fail_msg("spec \"%.60s\" built a model", spec);
    const char *err = pf_error();
    if (!err || !strstr(err, needle) || (needle2 && !strstr(err, needle2)))
        fail_msg("spec \"%.60s\": expected an error with \"%s\"%s%s%s, got %s", spec, needle, needle2 ? " and \"" : "",
                 needle2 ? needle2 : "", needle2 ? "\"" : "", err ? err : "no error");
    pf_error_clear();
    assert_true(pf_ctx_get_stats(p).capacity_bytes < ((size_t)16 << 20));
}

/* Shapes of a model's parameters, as "[a,b] [c] ...". */
static void assert_param_shapes(pf_module *m, const char *expected)
{
    pf_named_tensor *params;
    int n = pf_module_parameters(m, &params);
    PF_CHECK(n >= 0);
    char got[512] = "";
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        char s[64];
        len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? " " : "",
                                pf_shape_str(params[i].tensor, s, sizeof s));
    }
    assert_string_equal(got, expected);
}

/* ---- Valid specs ---------------------------------------------------------------- */

static void test_linear(void **state)
{
    pf_ctx *p = *state;
    const char *plain = "Linear(in_features=4, out_features=2, bias=True)";
    const char *no_bias = "Linear(in_features=4, out_features=2, bias=False)";
    assert_param_shapes(CHECK_LAYERS(p, "linear(4,2)", plain), "[2,4] [2]");
    CHECK_LAYERS(p, "Linear(4, 2)", plain);
    CHECK_LAYERS(p, "LINEAR(4,2,true)", plain);
    CHECK_LAYERS(p, "linear(4,2,bias=True)", plain);
    /* Keywords with underscores, as PyTorch names them (and any case). */
    CHECK_LAYERS(p, "linear(in_features=4, out_features=2)", plain);
    CHECK_LAYERS(p, "linear(out_features=2, in_features=4)", plain);
    CHECK_LAYERS(p, "linear(4, out_features=2)", plain);
    CHECK_LAYERS(p, "linear(4, OUT_FEATURES=2, Bias=TRUE)", plain);
    assert_param_shapes(CHECK_LAYERS(p, "linear(4,2,bias=false)", no_bias), "[2,4]");
    CHECK_LAYERS(p, "linear(4,2,False)", no_bias);
    CHECK_LAYERS(p, "linear(4,2,0)", no_bias);
    /* Numbers as Python writes them. */
    CHECK_LAYERS(p, "linear(4.0, 2e0)", plain);
}

static void test_convolutions(void **state)
{
    pf_ctx *p = *state;
    assert_param_shapes(CHECK_LAYERS(p, "conv2d(1,8,3)", "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))"),
                        "[8,1,3,3] [8]");
    const char *strided = "Conv2d(1, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))";
    CHECK_LAYERS(p, "Conv2d(1,8,3,stride=2,padding=1)", strided);
    CHECK_LAYERS(p, "conv2d(1, 8, 3, 2, 1)", strided);
    CHECK_LAYERS(p, "conv2d(1,8,(3,3),stride=(2,2),padding=(1,1))", strided);
    CHECK_LAYERS(p, "conv2d(in_channels=1, out_channels=8, kernel_size=3, stride=2, padding=1)", strided);
    CHECK_LAYERS(p, "conv_2d(1,8,kernel_size=(3, 3),padding=1,stride=2)", strided);
    assert_param_shapes(
        CHECK_LAYERS(p, "conv2d(3, 6, 5, dilation=2, groups=1, bias=False)",
                     "Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1), dilation=(2, 2), bias=False)"),
        "[6,3,5,5]");
    const char *transposed =
        "ConvTranspose2d(4, 3, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))";
    /* ConvTranspose2d's weight is [in, out, k, k]. */
    assert_param_shapes(CHECK_LAYERS(p, "conv_transpose2d(4,3,3,stride=2,padding=1,output_padding=1)", transposed),
                        "[4,3,3,3] [3]");
    CHECK_LAYERS(p, "ConvTranspose2d(4, 3, 3, 2, 1, 1)", transposed);
    CHECK_LAYERS(p, "convtranspose2d(4,3,(3,3),(2,2),(1,1),(1,1))", transposed);
    CHECK_LAYERS(p, "conv_transpose2d(2,2,3,dilation=2,bias=false)",
                 "ConvTranspose2d(2, 2, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2), bias=False)");
}

static void test_pooling_and_norms(void **state)
{
    pf_ctx *p = *state;
    CHECK_LAYERS(p, "maxpool2d(3)", "MaxPool2d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)");
    CHECK_LAYERS(p, "MaxPool2d(2, stride=None)",
                 "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
    CHECK_LAYERS(p, "max_pool2d(kernel_size=3, stride=2, padding=1)",
                 "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)");
    CHECK_LAYERS(p, "maxpool2d((2,2),1,dilation=1,ceil_mode=false)",
                 "MaxPool2d(kernel_size=2, stride=1, padding=0, dilation=1, ceil_mode=False)");
    CHECK_LAYERS(p, "avgpool2d(2)", "AvgPool2d(kernel_size=2, stride=2, padding=0)");
    CHECK_LAYERS(p, "AvgPool2d(3, 1, 1)", "AvgPool2d(kernel_size=3, stride=1, padding=1)");
    CHECK_LAYERS(p, "adaptiveavgpool2d((3,4))", "AdaptiveAvgPool2d(output_size=(3, 4))");
    CHECK_LAYERS(p, "adaptive_avg_pool2d(output_size=(2, 2))", "AdaptiveAvgPool2d(output_size=(2, 2))");
    /* PyTorch prints output_size=5 here: profond keeps the pair. */
    CHECK_LAYERS(p, "AdaptiveAvgPool2d(5)", "AdaptiveAvgPool2d(output_size=(5, 5))");
    pf_module *bn = CHECK_LAYERS(p, "batchnorm1d(5)",
                                 "BatchNorm1d(5, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
    assert_param_shapes(bn, "[5] [5]");
    pf_named_tensor *st;
    assert_int_equal(pf_module_state(bn, &st), 5);
    CHECK_LAYERS(p, "BatchNorm2d(4, eps=0.001, momentum=0.2)",
                 "BatchNorm2d(4, eps=0.001, momentum=0.2, affine=True, track_running_stats=True)");
    CHECK_LAYERS(p, "batch_norm2d(num_features=4)",
                 "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
}

static void test_activations_and_shapes(void **state)
{
    pf_ctx *p = *state;
    CHECK_LAYERS(p, "relu ReLU() RELU tanh Tanh() sigmoid Sigmoid()", "ReLU()", "ReLU()", "ReLU()", "Tanh()",
                 "Tanh()", "Sigmoid()", "Sigmoid()");
    CHECK_LAYERS(p, "leakyrelu leaky_relu(0.2) LeakyReLU(negative_slope=0.1)", "LeakyReLU(negative_slope=0.01)",
                 "LeakyReLU(negative_slope=0.2)", "LeakyReLU(negative_slope=0.1)");
    CHECK_LAYERS(p, "dropout dropout(0.25) Dropout(p=0.1) dropout(0)", "Dropout(p=0.5, inplace=False)",
                 "Dropout(p=0.25, inplace=False)", "Dropout(p=0.1, inplace=False)", "Dropout(p=0, inplace=False)");
    CHECK_LAYERS(p, "flatten flatten(0) Flatten(start_dim=2, end_dim=3) flatten(end_dim=-2)",
                 "Flatten(start_dim=1, end_dim=-1)", "Flatten(start_dim=0, end_dim=-1)",
                 "Flatten(start_dim=2, end_dim=3)", "Flatten(start_dim=1, end_dim=-2)");
    CHECK_LAYERS(p, "unflatten(1,(1,28,28)) unflatten(1, (5,)) Unflatten(dim=-1, unflattened_size=(2, -1))",
                 "Unflatten(dim=1, unflattened_size=(1, 28, 28))", "Unflatten(dim=1, unflattened_size=(5,))",
                 "Unflatten(dim=-1, unflattened_size=(2, -1))");
    /* A flatten-unflatten pair gives its input's shape back. */
    pf_module *m = pf_model_from_spec(p, "flatten unflatten(1,(3,4,5))");
    PF_CHECK(m != NULL);
    PF_ASSERT_SHAPE(pf_forward(p, m, pf_zeros(p, PF_DIMS(2, 3, 4, 5))), 2, 3, 4, 5);
}

static void test_named_models(void **state)
{
    pf_ctx *p = *state;
    pf_module *mlp = CHECK_LAYERS(p, "mlp", "Flatten(start_dim=1, end_dim=-1)",
                                  "Linear(in_features=784, out_features=256, bias=True)", "ReLU()",
                                  "Linear(in_features=256, out_features=256, bias=True)", "ReLU()",
                                  "Linear(in_features=256, out_features=10, bias=True)");
    assert_int_equal(pf_module_num_parameters(mlp), 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10);
    assert_param_shapes(mlp, "[256,784] [256] [256,256] [256] [10,256] [10]");
    PF_ASSERT_SHAPE(pf_forward(p, mlp, pf_zeros(p, PF_DIMS(3, 1, 28, 28))), 3, 10);
    pf_module *cnn = pf_model_from_spec(p, "lecture-cnn");
    PF_CHECK(cnn != NULL);
    assert_int_equal(pf_module_num_parameters(cnn), 105506);
    PF_ASSERT_SHAPE(pf_forward(p, cnn, pf_zeros(p, PF_DIMS(3, 1, 28, 28))), 3, 10);
    /* Only the exact names are aliases. */
    check_error(p, "MLP", "unknown layer 'mlp'", NULL);
    check_error(p, " lecture-cnn", "expected a space between layers", NULL);
}

static void test_spacing(void **state)
{
    pf_ctx *p = *state;
    const char *lines[] = {"Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))", "ReLU()",
                           "Linear(in_features=4, out_features=2, bias=True)"};
    const char *specs[] = {
        "conv2d(1,2,3) relu linear(4,2)",
        "  conv2d(1,2,3)   relu\tlinear(4,2)  ",
        "\nconv2d( 1 , 2 , 3 )\n relu \n linear(\t4,\n2 )\n",
        "conv2d (1,2,3) relu() linear  (4, 2)",
        "conv2d(1,2,(3 , 3)) relu( ) linear(in_features = 4 , out_features = 2)",
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++)
        check_layers(p, specs[i], 3, lines);
    /* The spec is a C string: whatever follows a NUL is not read. */
    const char with_nul[] = "linear(4,2)\0relu";
    CHECK_LAYERS(p, with_nul, "Linear(in_features=4, out_features=2, bias=True)");
    /* 256 layers is the most. */
    char *many = malloc(256 * 5 + 1);
    for (int i = 0; i < 256; i++)
        memcpy(many + 5 * i, "relu ", 5);
    many[256 * 5] = '\0';
    pf_module *m = pf_model_from_spec(p, many);
    PF_CHECK(m != NULL);
    assert_int_equal(pf_module_num_children(m), 256);
    free(many);
}

/* ---- Invalid specs ------------------------------------------------------------------ */

static void test_errors_words(void **state)
{
    pf_ctx *p = *state;
    check_error(p, "relu foo", "layer 2: unknown layer 'foo'", "known: linear");
    check_error(p, "conv3d(1,2,3)", "unknown layer 'conv3d'", NULL);
    check_error(p, "linear(3)", "layer 1 (linear): missing argument 'out_features'", NULL);
    check_error(p, "relu conv2d(1,2)", "layer 2 (conv2d): missing argument 'kernel_size'", NULL);
    check_error(p, "linear(out_features=3)", "missing argument 'in_features'", NULL);
    check_error(p, "unflatten(1)", "missing argument 'unflattened_size'", NULL);
    check_error(p, "linear(1,2,true,4)", "layer 1 (linear): too many arguments (at most 3)", NULL);
    check_error(p, "relu(1)", "layer 1 (relu): too many arguments (at most 0)", NULL);
    check_error(p, "linear(1,2,1,1,1,1,1,1,1,1,1,1,1)", "too many arguments", NULL);
    check_error(p, "linear(1,2,bais=false)", "layer 1 (linear): unknown argument 'bais'", NULL);
    check_error(p, "dropout(rate=0.5)", "unknown argument 'rate'", NULL);
    check_error(p, "conv2d(1,2,3,output_padding=1)", "unknown argument 'outputpadding'", NULL);
    check_error(p, "linear(1,2,in_features=3)", "argument 'in_features' given twice", NULL);
    check_error(p, "linear(1,2,bias=true,bias=false)", "argument 'bias' given twice", NULL);
    check_error(p, "convtranspose2d(1,2,3,dilation=1,dilation=2)", "argument 'dilation' given twice", NULL);
    check_error(p, "linear(in_features=3, 2)", "positional argument 2 follows a keyword argument", NULL);
    check_error(p, "averyveryverylonglayernamethatgoesonandon", "name too long", NULL);
}

static void test_errors_values(void **state)
{
    pf_ctx *p = *state;
    check_error(p, "linear(2.5,3)", "layer 1 (linear): in_features must be an integer", "(got 2.5)");
    check_error(p, "linear(-1,3)", "in_features must be an integer", "(got -1)");
    check_error(p, "linear(3,0)", "out_features must be an integer", "(got 0)");
    check_error(p, "conv2d(0,3,3)", "layer 1 (conv2d): in_channels must be an integer", "(got 0)");
    check_error(p, "conv2d(1,0,3)", "out_channels", "(got 0)");
    check_error(p, "conv2d(1,2,0)", "kernel_size", "(got 0)");
    check_error(p, "conv2d(1,2,3,padding=-1)", "padding must be an integer", NULL);
    check_error(p, "conv2d(1,2,3,groups=2)", "groups must be an integer in [1, 1]", NULL);
    check_error(p, "conv2d(1,2,(3,5))", "layer 1 (conv2d): only square sizes are supported", NULL);
    check_error(p, "maxpool2d((2,3))", "only square sizes", NULL);
    check_error(p, "conv2d(1,2,(3,))", "only square sizes", NULL);
    check_error(p, "conv2d(1,2,3,stride=(1,2))", "only square sizes", NULL);
    check_error(p, "maxpool2d(2,ceil_mode=true)", "ceil_mode", NULL);
    check_error(p, "adaptiveavgpool2d((1,2,3))", "output_size must be one number or a pair", NULL);
    check_error(p, "adaptiveavgpool2d(0)", "output_size must be an integer", NULL);
    check_error(p, "unflatten(1,5)", "unflattened_size must be a tuple", NULL);
    check_error(p, "unflatten(1,(2,0))", "size 0 is not valid", NULL);
    check_error(p, "batchnorm2d(0)", "num_features must be an integer", NULL);
    check_error(p, "batchnorm1d(4,eps=0)", "eps must be positive", NULL);
    check_error(p, "batchnorm1d(4,momentum=2)", "momentum in [0, 1]", NULL);
    check_error(p, "dropout(1)", "layer 1 (dropout): pf_nn_dropout: p must be in [0, 1)", NULL);
    check_error(p, "dropout(-0.1)", "p must be in [0, 1)", NULL);
    check_error(p, "dropout(None)", "p must be in [0, 1)", NULL);
    check_error(p, "flatten(9)", "start_dim must be an integer", NULL);
    check_error(p, "linear(1e400,2)", "expected a number", NULL);
    check_error(p, "linear(nan,2)", "expected a number, true, false or None", NULL);
    check_error(p, "linear(-inf,2)", "expected a number", NULL);
    check_error(p, "linear(,2)", "expected a number", NULL);
    check_error(p, "linear(1,2,)", "expected a number", NULL);
    check_error(p, "conv2d(1,2,(3,3,3,3,3,3,3))", "tuple too long", NULL);
    check_error(p, "conv2d(1,2,())", "expected a number", NULL);
}

static void test_errors_syntax(void **state)
{
    pf_ctx *p = *state;
    check_error(p, "linear(1,2", "layer 1: the spec ends early (unbalanced parentheses?)", NULL);
    check_error(p, "conv2d(1,2,(3,3) relu", "layer 1, character 18: expected ',' or ')' after an argument", NULL);
    check_error(p, "conv2d(1,2,(3,3", "unbalanced parentheses", NULL);
    check_error(p, "linear(1,2))", "layer 1, character 12: unbalanced ')'", NULL);
    check_error(p, "relu)", "unbalanced ')'", NULL);
    check_error(p, "(relu)", "layer 1, character 1: expected a name", NULL);
    check_error(p, "linear(1,2)relu", "layer 1, character 12: expected a space between layers", NULL);
    check_error(p, "relu,tanh", "expected a space between layers", NULL);
    check_error(p, "linear(1 2)", "expected ',' or ')' after an argument", NULL);
    check_error(p, "linear(1;2)", "expected ',' or ')' after an argument", NULL);
    check_error(p, "", "the spec has no layers", NULL);
    check_error(p, " \t\n ", "the spec has no layers", NULL);
    check_error(p, "\x01\xff\xfe", "layer 1, character 1: expected a name", NULL);
    check_error(p, "relu \x80relu", "layer 2, character 6: expected a name", NULL);
    check_error(p, "re\xc3\xa9lu", "expected a space between layers", NULL);
    check_error(p, "linear(1,2\x7f)", "expected ',' or ')'", NULL);
    assert_null(pf_model_from_spec(p, NULL));
    PF_ASSERT_ERROR("NULL spec");
    assert_null(pf_model_from_spec(NULL, "relu"));
    PF_ASSERT_ERROR("NULL context");
}

static void test_errors_size(void **state)
{
    pf_ctx *p = *state;
    /* 100 KB of valid layers: too long, before anything is read. */
    size_t big = 100 * 1024;
    char *text = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        text[i] = "relu "[i % 5];
    text[big] = '\0';
    check_error(p, text, "the spec is longer than 65536 characters", NULL);
    /* 300 layers: too many. */
    text[300 * 5] = '\0';
    check_error(p, text, "more than 256 layers", NULL);
    free(text);
    /* Huge layers are refused before they allocate anything. */
    check_error(p, "linear(10000000,10000000)", "layer 1 (linear): the model would have more than 134217728",
                NULL);
    check_error(p, "relu conv2d(10000000,10000000,1024)", "layer 2 (conv2d): the model would have more", NULL);
    check_error(p, "linear(10000001,1)", "in_features must be an integer in [1, 1e+07]", NULL);
    /* The limit is on the whole model: 64 MiB and then 448 MiB. */
    pf_ctx *own = pf_ctx_new(0);
    assert_null(pf_model_from_spec(own, "linear(4096,4096) relu linear(10000,11743)"));
    PF_ASSERT_ERROR("layer 3 (linear): the model would have more than 134217728 parameters and buffers");
    pf_ctx_free(own);
}

/* Cases found by reading the parser and by fuzzing it. */
static void test_regressions(void **state)
{
    pf_ctx *p = *state;
    /* Keywords with underscores were never recognised. */
    CHECK_LAYERS(p, "conv2d(1,2,kernel_size=3)", "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))");
    CHECK_LAYERS(p, "unflatten(dim=1, unflattened_size=(2,2))", "Unflatten(dim=1, unflattened_size=(2, 2))");
    /* A tuple given for unflatten's dim was taken as unflattened_size. */
    check_error(p, "unflatten((5,1),1)", "only square sizes", NULL);
    check_error(p, "unflatten((1,1),1)", "unflattened_size must be a tuple", NULL);
    /* A square pair (2,2) as unflattened_size is a tuple, not 2. */
    CHECK_LAYERS(p, "unflatten(1,(2,2))", "Unflatten(dim=1, unflattened_size=(2, 2))");
    /* Flags were true for any value but 0. */
    check_error(p, "linear(1,2,bias=5)", "bias must be true or false (got 5)", NULL);
    check_error(p, "linear(1,2,None)", "bias must be true or false", NULL);
    check_error(p, "conv2d(1,2,3,bias=2)", "bias must be true or false", NULL);
    /* A NaN slope. */
    check_error(p, "leakyrelu(None)", "negative_slope must be a number", NULL);
    /* Messages carried "pf_model_from_spec" twice. */
    pf_model_from_spec(p, "linear(0,1)");
    assert_non_null(pf_error());
    assert_null(strstr(pf_error() + 1, "pf_model_from_spec"));
    PF_ASSERT_ERROR("in_features");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_linear, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_convolutions, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_pooling_and_norms, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_activations_and_shapes, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_named_models, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_spacing, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_errors_words, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_errors_values, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_errors_syntax, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_errors_size, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_regressions, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
