/*
 * spec.c — models from text: "conv2d(1,32,5) relu maxpool2d(3) ... linear(200,10)".
 *
 * A spec is a list of layers separated by spaces. A layer is a name (as
 * PyTorch's class, any case, underscores ignored: Conv2d, conv2d,
 * conv_transpose2d) and optionally its arguments in parentheses: numbers,
 * true/false, or tuples "(1,28,28)", positional or as keyword=value with
 * the names of PyTorch's constructors. Parsing and binding are separate
 * steps: parse_layer reads the text of one layer into words and values;
 * bind_arguments matches them with the layer kind's parameter list.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/module.h"

#define SPEC_MAX_LENGTH 65536
#define SPEC_MAX_LAYERS 256
#define SPEC_MAX_ARGS 12
#define SPEC_MAX_TUPLE 6
#define SPEC_NAME_LEN 32
/* Fix (tests, fuzzing): "linear(10000000,10000000)" asked for 400 TB. A spec
 * may now describe at most 2^27 state elements in all (parameters and
 * buffers: 512 MiB of float32, more than any model of the lecture needs by
 * three orders of magnitude); this is checked layer by layer before the
 * layer allocates anything. */
#ifndef SPEC_MAX_ELEMENTS
#define SPEC_MAX_ELEMENTS ((double)(1 << 27))
#endif

typedef struct spec_arg {
    char key[SPEC_NAME_LEN];      /* "" for a positional argument */
    int count;                    /* values; > 1 or `tuple` for (a, b, ...) */
    bool tuple;
    double value[SPEC_MAX_TUPLE];
} spec_arg;

typedef struct spec_layer {
    char name[SPEC_NAME_LEN];     /* lower case, no underscores */
    int nargs;
    spec_arg args[SPEC_MAX_ARGS];
} spec_layer;

/* ---- reading text ---- */

typedef struct scanner {
    const char *text;
    size_t pos;
    int word;                     /* 1-based index of the layer being read */
} scanner;

static void skip_space(scanner *s)
{
    while (isspace((unsigned char)s->text[s->pos]))
        s->pos++;
}

static bool fail_at(const scanner *s, const char *what)
{
    /* Fix (tests): an unclosed "linear(1,2" only said "expected ',' or ')'"
     * at a character past the end; the message now says the spec ended. */
    if (!s->text[s->pos])
        pf_fail("pf_model_from_spec: layer %d: the spec ends early (unbalanced parentheses?): %s", s->word, what);
    else
        pf_fail("pf_model_from_spec: layer %d, character %zu: %s", s->word, s->pos + 1, what);
    return false;
}

/* An identifier, lower-cased, underscores dropped. */
static bool read_name(scanner *s, char *out)
{
    size_t n = 0;
    if (!isalpha((unsigned char)s->text[s->pos]))
        return fail_at(s, "expected a name");
    while (isalnum((unsigned char)s->text[s->pos]) || s->text[s->pos] == '_') {
        char c = s->text[s->pos++];
        if (c == '_')
            continue;
        if (n + 1 >= SPEC_NAME_LEN)
            return fail_at(s, "name too long");
        out[n++] = (char)tolower((unsigned char)c);
    }
    out[n] = '\0';
    return true;
}

/* A number, true/false (1/0) or None (NAN). */
static bool read_scalar(scanner *s, double *out)
{
    skip_space(s);
    const char *start = s->text + s->pos;
    if (isalpha((unsigned char)*start)) {
        char word[SPEC_NAME_LEN];
        if (!read_name(s, word))
            return false;
        if (strcmp(word, "true") == 0)
            *out = 1;
        else if (strcmp(word, "false") == 0)
            *out = 0;
        else if (strcmp(word, "none") == 0)
            *out = NAN;
        else
            return fail_at(s, "expected a number, true, false or None");
        return true;
    }
    char *end;
    double v = strtod(start, &end);
    if (end == start || !isfinite(v))
        return fail_at(s, "expected a number");
    s->pos += (size_t)(end - start);
    *out = v;
    return true;
}

static bool read_value(scanner *s, spec_arg *arg)
{
    skip_space(s);
    if (s->text[s->pos] != '(') {
        arg->count = 1;
        return read_scalar(s, &arg->value[0]);
    }
    s->pos++;
    arg->tuple = true;
    arg->count = 0;
    for (;;) {
        skip_space(s);
        if (s->text[s->pos] == ')' && arg->count > 0) {
            s->pos++;
            return true;
        }
        if (arg->count == SPEC_MAX_TUPLE)
            return fail_at(s, "tuple too long");
        if (!read_scalar(s, &arg->value[arg->count++]))
            return false;
        skip_space(s);
        if (s->text[s->pos] == ',')
            s->pos++;
        else if (s->text[s->pos] != ')')
            return fail_at(s, "expected ',' or ')' in a tuple");
    }
}

/* name or name(arg, key=value, ...) */
static bool parse_layer(scanner *s, spec_layer *layer)
{
    memset(layer, 0, sizeof *layer);
    if (!read_name(s, layer->name))
        return false;
    /* Fix (tests): "linear (4, 2)", spaced as Python allows, failed with
     * "expected a name" at the '('. No layer starts with '(', so spaces
     * before the arguments are skipped. */
    size_t after_name = s->pos;
    skip_space(s);
    if (s->text[s->pos] != '(') {
        s->pos = after_name;
        return true;
    }
    s->pos++;
    skip_space(s);
    if (s->text[s->pos] == ')') {
        s->pos++;
        return true;
    }
    for (;;) {
        if (layer->nargs == SPEC_MAX_ARGS)
            return fail_at(s, "too many arguments");
        spec_arg *arg = &layer->args[layer->nargs++];
        skip_space(s);
        size_t mark = s->pos;
        if (isalpha((unsigned char)s->text[s->pos])) {
            char key[SPEC_NAME_LEN];
            if (!read_name(s, key))
                return false;
            skip_space(s);
            if (s->text[s->pos] == '=') {
                s->pos++;
                snprintf(arg->key, sizeof arg->key, "%s", key);
            } else {
                s->pos = mark; /* a bare word value such as True */
            }
        }
        if (!read_value(s, arg))
            return false;
        skip_space(s);
        if (s->text[s->pos] == ')') {
            s->pos++;
            return true;
        }
        if (s->text[s->pos] != ',')
            return fail_at(s, "expected ',' or ')' after an argument");
        s->pos++;
    }
}

/* ---- binding arguments to a layer kind ---- */

#define MAX_PARAMS 8

typedef struct layer_kind {
    const char *name;                  /* as written in specs, lower case */
    const char *params[MAX_PARAMS];    /* PyTorch's parameter names, in order */
    int required;                      /* how many of them have no default */
    double defaults[MAX_PARAMS];       /* for the others */
    pf_module *(*build)(pf_ctx *ctx, const double *v, const spec_arg *tuple_arg);
} layer_kind;

/* Integer in [low, high], or an error naming the parameter. Fix (tests): the
 * messages of the build functions no longer start with "pf_model_from_spec:
 * linear:", which pf_model_from_spec's own prefix repeated ("...: layer 1
 * (linear): pf_model_from_spec: linear: ..."). */
static bool as_int(const char *param, double v, double low, double high, int *out)
{
    if (!(v == floor(v) && v >= low && v <= high)) {
        pf_fail("%s must be an integer in [%g, %g] (got %g)", param, low, high, v);
        return false;
    }
    *out = (int)v;
    return true;
}

/* Fix (tests): bias=5 or bias=None was taken as true; a flag is now true or
 * false (1 or 0). */
static bool as_bool(const char *param, double v, bool *out)
{
    if (v != 0 && v != 1) {
        pf_fail("%s must be true or false (got %g)", param, v);
        return false;
    }
    *out = v == 1;
    return true;
}

#define BIG 1e7

static pf_module *build_linear(pf_ctx *ctx, const double *v, const spec_arg *t)
{
    (void)t;
    int in, out;
    bool bias;
    if (!as_int("in_features", v[0], 1, BIG, &in) || !as_int("out_features", v[1], 1, BIG, &out) ||
        !as_bool("bias", v[2], &bias))
        return NULL;
    return pf_nn_linear(ctx, in, out, bias);
}

static pf_module *build_conv(pf_ctx *ctx, const double *v, bool transposed)
{
    int in, out, k, stride, padding, dilation, groups, output_padding = 0;
    /* conv2d:          in, out, kernel_size, stride, padding, dilation, groups, bias
     * convtranspose2d: in, out, kernel_size, stride, padding, output_padding, groups, bias, + dilation in v[8] */
    if (!as_int("in_channels", v[0], 1, BIG, &in) || !as_int("out_channels", v[1], 1, BIG, &out) ||
        !as_int("kernel_size", v[2], 1, 1024, &k) || !as_int("stride", v[3], 1, 1024, &stride) ||
        !as_int("padding", v[4], 0, 1024, &padding))
        return NULL;
    if (transposed) {
        if (!as_int("output_padding", v[5], 0, 1024, &output_padding) ||
            !as_int("groups", v[6], 1, 1, &groups) || !as_int("dilation", v[8], 1, 1024, &dilation))
            return NULL;
    } else if (!as_int("dilation", v[5], 1, 1024, &dilation) || !as_int("groups", v[6], 1, 1, &groups)) {
        return NULL;
    }
    bool bias;
    if (!as_bool("bias", v[7], &bias))
        return NULL;
    pf_conv_opts o = {stride, padding, dilation, output_padding, !bias};
    return transposed ? pf_nn_conv_transpose2d(ctx, in, out, k, &o) : pf_nn_conv2d(ctx, in, out, k, &o);
}

static pf_module *build_conv2d(pf_ctx *ctx, const double *v, const spec_arg *t) { (void)t; return build_conv(ctx, v, false); }
static pf_module *build_conv_transpose2d(pf_ctx *ctx, const double *v, const spec_arg *t)
{
    (void)t;
    return build_conv(ctx, v, true);
}

static pf_module *build_pool(pf_ctx *ctx, const double *v, bool max)
{
    int k, stride = 0, padding, dilation = 1, ceil = 0;
    if (!as_int("kernel_size", v[0], 1, 1024, &k) ||
        (!isnan(v[1]) && !as_int("stride", v[1], 1, 1024, &stride)) ||
        !as_int("padding", v[2], 0, 1024, &padding))
        return NULL;
    if (max && (!as_int("dilation", v[3], 1, 1, &dilation) || !as_int("ceil_mode", v[4], 0, 0, &ceil)))
        return NULL;
    return max ? pf_nn_max_pool2d(ctx, k, stride, padding) : pf_nn_avg_pool2d(ctx, k, stride, padding);
}

static pf_module *build_max_pool2d(pf_ctx *ctx, const double *v, const spec_arg *t) { (void)t; return build_pool(ctx, v, true); }
static pf_module *build_avg_pool2d(pf_ctx *ctx, const double *v, const spec_arg *t) { (void)t; return build_pool(ctx, v, false); }

static pf_module *build_adaptive_avg_pool2d(pf_ctx *ctx, const double *v, const spec_arg *t)
{
    int h, w;
    double vh = v[0], vw = v[0];
    if (t && t->tuple) {
        if (t->count != 2)
            return pf_fail("output_size must be one number or a pair");
        vh = t->value[0];
        vw = t->value[1];
    }
    if (!as_int("output_size", vh, 1, 4096, &h) ||
        !as_int("output_size", vw, 1, 4096, &w))
        return NULL;
    return pf_nn_adaptive_avg_pool2d(ctx, h, w);
}

static pf_module *build_batch_norm(pf_ctx *ctx, const double *v, bool two_d)
{
    int features;
    if (!as_int("num_features", v[0], 1, BIG, &features))
        return NULL;
    if (!(v[1] > 0) || !(v[2] >= 0 && v[2] <= 1))
        return pf_fail("eps must be positive and momentum in [0, 1]");
    pf_module *m = two_d ? pf_nn_batch_norm2d(ctx, features) : pf_nn_batch_norm1d(ctx, features);
    if (m) {
        m->farg[0] = v[1];
        m->farg[1] = v[2];
    }
    return m;
}

static pf_module *build_batch_norm1d(pf_ctx *ctx, const double *v, const spec_arg *t) { (void)t; return build_batch_norm(ctx, v, false); }
static pf_module *build_batch_norm2d(pf_ctx *ctx, const double *v, const spec_arg *t) { (void)t; return build_batch_norm(ctx, v, true); }

static pf_module *build_dropout(pf_ctx *ctx, const double *v, const spec_arg *t) { (void)t; return pf_nn_dropout(ctx, v[0]); }
static pf_module *build_relu(pf_ctx *ctx, const double *v, const spec_arg *t) { (void)v, (void)t; return pf_nn_relu(ctx); }
static pf_module *build_tanh(pf_ctx *ctx, const double *v, const spec_arg *t) { (void)v, (void)t; return pf_nn_tanh(ctx); }
static pf_module *build_sigmoid(pf_ctx *ctx, const double *v, const spec_arg *t) { (void)v, (void)t; return pf_nn_sigmoid(ctx); }
static pf_module *build_leaky_relu(pf_ctx *ctx, const double *v, const spec_arg *t)
{
    (void)t;
    /* Fix (tests): leakyrelu(None) made a layer with a NaN slope. */
    if (!isfinite(v[0]))
        return pf_fail("negative_slope must be a number (got %g)", v[0]);
    return pf_nn_leaky_relu(ctx, v[0]);
}

static pf_module *build_flatten(pf_ctx *ctx, const double *v, const spec_arg *t)
{
    (void)t;
    int start, end;
    if (!as_int("start_dim", v[0], -PF_MAX_DIMS, PF_MAX_DIMS - 1, &start) ||
        !as_int("end_dim", v[1], -PF_MAX_DIMS, PF_MAX_DIMS - 1, &end))
        return NULL;
    return pf_nn_flatten(ctx, start, end);
}

static pf_module *build_unflatten(pf_ctx *ctx, const double *v, const spec_arg *t)
{
    int dim;
    if (!as_int("dim", v[0], -PF_MAX_DIMS, PF_MAX_DIMS - 1, &dim))
        return NULL;
    if (!t || !t->tuple)
        return pf_fail("unflattened_size must be a tuple such as (1,28,28)");
    int64_t sizes[SPEC_MAX_TUPLE];
    for (int i = 0; i < t->count; i++) {
        int s;
        if (!as_int("unflattened_size", t->value[i], -1, BIG, &s))
            return NULL;
        sizes[i] = s;
    }
    return pf_nn_unflatten(ctx, dim, t->count, sizes);
}

static const layer_kind kinds[] = {
    {"linear", {"in_features", "out_features", "bias"}, 2, {0, 0, 1}, build_linear},
    {"conv2d", {"in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias"},
     3, {0, 0, 0, 1, 0, 1, 1, 1}, build_conv2d},
    {"convtranspose2d",
     {"in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups", "bias"},
     3, {0, 0, 0, 1, 0, 0, 1, 1}, build_conv_transpose2d},
    {"maxpool2d", {"kernel_size", "stride", "padding", "dilation", "ceil_mode"}, 1, {0, NAN, 0, 1, 0},
     build_max_pool2d},
    {"avgpool2d", {"kernel_size", "stride", "padding"}, 1, {0, NAN, 0}, build_avg_pool2d},
    {"adaptiveavgpool2d", {"output_size"}, 1, {0}, build_adaptive_avg_pool2d},
    {"batchnorm1d", {"num_features", "eps", "momentum"}, 1, {0, 1e-5, 0.1}, build_batch_norm1d},
    {"batchnorm2d", {"num_features", "eps", "momentum"}, 1, {0, 1e-5, 0.1}, build_batch_norm2d},
    {"dropout", {"p"}, 0, {0.5}, build_dropout},
    {"relu", {NULL}, 0, {0}, build_relu},
    {"tanh", {NULL}, 0, {0}, build_tanh},
    {"sigmoid", {NULL}, 0, {0}, build_sigmoid},
    {"leakyrelu", {"negative_slope"}, 0, {0.01}, build_leaky_relu},
    {"flatten", {"start_dim", "end_dim"}, 0, {1, -1}, build_flatten},
    {"unflatten", {"dim", "unflattened_size"}, 2, {0, 0}, build_unflatten},
};

/* Fix (tests): keys are read by read_name, which lower-cases them and drops
 * underscores, so "kernel_size=3" arrived as "kernelsize" and never matched
 * PyTorch's "kernel_size": every keyword with an underscore was rejected as
 * unknown. Parameter names are now compared the same way. */
static bool same_name(const char *param, const char *key)
{
    for (;; param++) {
        if (*param == '_')
            continue;
        if (*param != *key)
            return false;
        if (!*param)
            return true;
        key++;
    }
}

/* Fills v[] with each parameter's value; *tuple_arg is the argument given
 * as a tuple (for the layers that take one). v[8] carries convtranspose2d's
 * trailing dilation keyword. */
static bool bind_arguments(const layer_kind *kind, const spec_layer *layer, int word, double *v,
                           const spec_arg **tuple_arg)
{
    int nparams = 0;
    while (nparams < MAX_PARAMS && kind->params[nparams])
        nparams++;
    bool given[MAX_PARAMS + 1] = {false};
    for (int i = 0; i < MAX_PARAMS + 1; i++)
        v[i] = i < MAX_PARAMS ? kind->defaults[i] : 1;
    *tuple_arg = NULL;
    for (int a = 0; a < layer->nargs; a++) {
        const spec_arg *arg = &layer->args[a];
        int slot = -1;
        if (!arg->key[0]) {
            /* Fix (tests): a positional argument after a keyword one (which
             * Python refuses) silently took the slot of its position. */
            if (a > 0 && layer->args[a - 1].key[0])
                return pf_fail("pf_model_from_spec: layer %d (%s): positional argument %d follows a keyword argument",
                               word, layer->name, a + 1),
                       false;
            if (a >= nparams)
                return pf_fail("pf_model_from_spec: layer %d (%s): too many arguments (at most %d)", word,
                               layer->name, nparams),
                       false;
            slot = a;
        } else {
            for (int p = 0; p < nparams && slot < 0; p++)
                if (same_name(kind->params[p], arg->key))
                    slot = p;
            if (slot < 0 && strcmp(kind->name, "convtranspose2d") == 0 && strcmp(arg->key, "dilation") == 0)
                slot = MAX_PARAMS;
            if (slot < 0)
                return pf_fail("pf_model_from_spec: layer %d (%s): unknown argument '%s'", word, layer->name,
                               arg->key),
                       false;
        }
        /* Fix (tests): the message said "argument 2 given twice"; it now names it. */
        if (given[slot])
            return pf_fail("pf_model_from_spec: layer %d (%s): argument '%s' given twice", word, layer->name,
                           slot == MAX_PARAMS ? "dilation" : kind->params[slot]),
                   false;
        given[slot] = true;
        if (arg->tuple) {
            /* Fix (tests): any tuple argument of adaptiveavgpool2d or unflatten
             * was taken as the tuple parameter, so "unflatten((5,1),1)" built
             * Unflatten(dim=5, unflattened_size=(5, 1)). Only output_size and
             * unflattened_size take a tuple now. A square pair (k, k) stands
             * for k anywhere else. */
            bool takes_tuple = (strcmp(kind->name, "adaptiveavgpool2d") == 0 && slot == 0) ||
                               (strcmp(kind->name, "unflatten") == 0 && slot == 1);
            bool square = arg->count == 2 && arg->value[0] == arg->value[1];
            if (!takes_tuple && !square)
                return pf_fail("pf_model_from_spec: layer %d (%s): only square sizes are supported, such as (3,3)",
                               word, layer->name),
                       false;
            if (takes_tuple)
                *tuple_arg = arg;
        }
        v[slot] = arg->value[0];
    }
    for (int p = 0; p < kind->required; p++)
        if (!given[p])
            return pf_fail("pf_model_from_spec: layer %d (%s): missing argument '%s'", word, layer->name,
                           kind->params[p]),
                   false;
    return true;
}

/* The number of elements of a layer's parameters and buffers, from its
 * arguments before they are checked (a nonsensical result, NaN or negative,
 * belongs to arguments that the layer's build function rejects). */
static double state_elements(const layer_kind *kind, const double *v)
{
    if (kind->build == build_linear)
        return v[0] * v[1] + v[1];
    if (kind->build == build_conv2d || kind->build == build_conv_transpose2d)
        return v[0] * v[1] * v[2] * v[2] + v[1];
    if (kind->build == build_batch_norm1d || kind->build == build_batch_norm2d)
        return 4 * v[0] + 1;
    return 0;
}

static const char *lecture_cnn =
    "conv2d(1,32,5) relu maxpool2d(3) conv2d(32,64,5) relu maxpool2d(2) flatten linear(256,200) relu linear(200,10)";
static const char *mlp = "flatten linear(784,256) relu linear(256,256) relu linear(256,10)";

pf_module *pf_model_from_spec(pf_ctx *params, const char *spec)
{
    if (!params)
        return pf_fail("pf_model_from_spec: NULL context");
    if (!spec)
        return pf_fail("pf_model_from_spec: NULL spec");
    if (strlen(spec) > SPEC_MAX_LENGTH)
        return pf_fail("pf_model_from_spec: the spec is longer than %d characters", SPEC_MAX_LENGTH);
    /* torchvision's models by name (zoo.c): not Sequentials, and larger
     * than a spec may describe. */
    bool zoo;
    pf_module *named = pf_model_zoo_lookup(params, spec, &zoo);
    if (zoo)
        return named;
    if (strcmp(spec, "lecture-cnn") == 0)
        spec = lecture_cnn;
    else if (strcmp(spec, "mlp") == 0)
        spec = mlp;

    pf_module **layers = pf_ctx_alloc(params, sizeof *layers * SPEC_MAX_LAYERS);
    if (!layers)
        return NULL;
    int n = 0;
    double total = 0; /* state elements of the layers so far */
    scanner s = {spec, 0, 0};
    for (;;) {
        skip_space(&s);
        if (!spec[s.pos])
            break;
        if (n == SPEC_MAX_LAYERS)
            return pf_fail("pf_model_from_spec: more than %d layers", SPEC_MAX_LAYERS);
        s.word = n + 1;
        spec_layer layer;
        if (!parse_layer(&s, &layer))
            return NULL;
        if (spec[s.pos] && !isspace((unsigned char)spec[s.pos])) {
            fail_at(&s, spec[s.pos] == ')' ? "unbalanced ')'" : "expected a space between layers");
            return NULL;
        }
        const layer_kind *kind = NULL;
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds && !kind; k++)
            if (strcmp(kinds[k].name, layer.name) == 0)
                kind = &kinds[k];
        if (!kind)
            return pf_fail("pf_model_from_spec: layer %d: unknown layer '%s' (known: linear, conv2d, "
                           "convtranspose2d, maxpool2d, avgpool2d, adaptiveavgpool2d, batchnorm1d, batchnorm2d, "
                           "dropout, relu, leakyrelu, tanh, sigmoid, flatten, unflatten)",
                           s.word, layer.name);
        double v[MAX_PARAMS + 1];
        const spec_arg *tuple_arg;
        if (!bind_arguments(kind, &layer, s.word, v, &tuple_arg))
            return NULL;
        double elements = state_elements(kind, v);
        if (elements > 0)
            total += elements;
        if (total > SPEC_MAX_ELEMENTS)
            return pf_fail("pf_model_from_spec: layer %d (%s): the model would have more than %.0f parameters and "
                           "buffers (%.3g)",
                           s.word, layer.name, SPEC_MAX_ELEMENTS, total);
        pf_module *m = kind->build(params, v, tuple_arg);
        if (!m) {
            pf_error_prefix("pf_model_from_spec: layer %d (%s): ", s.word, layer.name);
            return NULL;
        }
        layers[n++] = m;
    }
    if (n == 0)
        return pf_fail("pf_model_from_spec: the spec has no layers");
    return pf_nn_sequential(params, n, layers);
}
