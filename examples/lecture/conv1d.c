/*
 * conv1d.c — the slides "Couches convolutionnelles":
 *
 *   "un modèle linéaire prenant une image 256 x 256 couleur en entrée et
 *    générant un signal similaire demanderait (256 x 256 x 3)^2 ~ 3.87e+10
 *    paramètres"; a convolution shares a small kernel over all positions.
 *
 *   "Une convolution peut implémenter un opérateur différentiel, e.g.
 *    (0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4) ⊛ (-1, 1) = (0, 0, 0, 1, 1, 1, 1, 0, 0, 0)
 *    ou un simple détecteur de motif", and "le même concept peut être
 *    généralisé à un signal 2d multi-canaux".
 *
 * Every convolution here is pf_conv2d (PyTorch's cross-correlation: out_i =
 * sum_k w_k x_{i+k}), a 1-D signal being a [1, 1, 1, L] image and a 1-D
 * kernel a [1, 1, 1, K] one. The program prints the slide's derivative,
 * finds a motif in a noisy signal with a kernel shaped like it, runs a
 * colour image through a Conv2d(3, 3, 3) layer whose three kernels detect
 * vertical edges, horizontal edges and red, and compares that layer's 84
 * parameters with the dense map's 3.87e10.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "image.h"
#include "lecture.h"
#include "plot.h"

#define SIGNAL 72
#define MOTIF 9
#define RESPONSE (SIGNAL - MOTIF + 1)
#define THRESHOLD 0.7
#define SIDE 48

/* A 1-D signal x (n values) convolved with a 1-D kernel w (k values), no
 * padding: n - k + 1 values into out. */
static bool conv1d(pf_ctx *ctx, const float *x, int n, const float *w, int k, double *out)
{
    pf_tensor *input = pf_from_f32(ctx, x, PF_DIMS(1, 1, 1, n));
    pf_tensor *kernel = pf_from_f32(ctx, w, PF_DIMS(1, 1, 1, k));
    return pf_copy_to_f64(pf_conv2d(ctx, input, kernel, NULL, 1, 0, 1), out);
}

static void print_tuple(const char *before, int n, const double *v, const char *after)
{
    printf("%s(", before);
    for (int i = 0; i < n; i++)
        printf("%s%g", i ? ", " : "", v[i]);
    printf(")%s", after);
}

/* ---- (0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4) ⊛ (-1, 1) ---- */
static int derivative(lecture_run *run, pf_ctx *ctx)
{
    static const float x[11] = {0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4}, w[2] = {-1, 1};
    double xd[11], out[10];
    if (!conv1d(ctx, x, 11, w, 2, out))
        return lecture_fail(run, "the derivative");
    for (int i = 0; i < 11; i++)
        xd[i] = x[i];
    print_tuple("", 11, xd, " ⊛ (-1, 1) = ");
    print_tuple("", 10, out, "\n");
    char text[128];
    int len = 0;
    for (int i = 0; i < 10; i++)
        len += snprintf(text + len, sizeof text - (size_t)len, "%s%g", i ? ", " : "(", out[i]);
    snprintf(text + len, sizeof text - (size_t)len, ")");
    lecture_series(run, "derivative", 10, out);
    lecture_text(run, "derivative_text", text);

    double ix[11], ox[10];
    for (int i = 0; i < 11; i++)
        ix[i] = i;
    for (int i = 0; i < 10; i++)
        ox[i] = i + 0.5; /* out_i = x_{i+1} - x_i lies between the two samples */
    plot *p = plot_open(lecture_path(run, "conv1d_derivative.png"), 800, 420);
    plot_axes(p, -0.5, 10.5, -0.5, 5.5, "position", "value", "(0,0,0,0,1,2,3,4,4,4,4) ⊛ (-1, 1)");
    plot_line(p, 11, ix, xd, PLOT_BLUE, "signal x");
    plot_points(p, 11, ix, xd, PLOT_BLUE, 2, NULL);
    plot_line(p, 10, ox, out, PLOT_RED, "x ⊛ (-1, 1) = x#di+1#u - x#di#u");
    plot_points(p, 10, ox, out, PLOT_RED, 3, NULL);
    plot_legend(p);
    if (!plot_close(p))
        return 1;
    lecture_figure(run, "conv1d_derivative.png",
                   "A convolution with the kernel (-1, 1) is a discrete derivative: it is 1 where the signal "
                   "rises and 0 where it is flat (each output drawn between the two samples it compares).");
    lecture_note(run, "(0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4) ⊛ (-1, 1) = %s, computed by pf_conv2d.", text);
    return 0;
}

/* ---- a motif detector ---- */
static int detector(lecture_run *run, pf_ctx *ctx)
{
    /* The motif: one period of a triangle wave (9 samples). The kernel is
     * the motif divided by its squared norm, so that an exact copy gives 1. */
    static const float motif[MOTIF] = {0, 0.5f, 1, 0.5f, 0, -0.5f, -1, -0.5f, 0};
    static const int planted[3] = {6, 29, 47};
    const int bump_at = 59; /* a mere peak, (0.5, 1, 0.5): not the motif */
    float norm2 = 0, kernel[MOTIF], x[SIGNAL];
    for (int k = 0; k < MOTIF; k++)
        norm2 += motif[k] * motif[k];
    for (int k = 0; k < MOTIF; k++)
        kernel[k] = motif[k] / norm2;

    pf_tensor *noise = pf_mul_scalar(ctx, pf_randn(ctx, PF_DIMS(SIGNAL)), 0.1);
    if (!pf_copy_to_f32(noise, x))
        return lecture_fail(run, "the detector's signal");
    for (int j = 0; j < 3; j++)
        for (int k = 0; k < MOTIF; k++)
            x[planted[j] + k] += motif[k];
    x[bump_at - 1] += 0.5f;
    x[bump_at] += 1;
    x[bump_at + 1] += 0.5f;

    double response[RESPONSE];
    if (!conv1d(ctx, x, SIGNAL, kernel, MOTIF, response))
        return lecture_fail(run, "the detector");

    /* Detections: local maxima of the response above the threshold. */
    double found[RESPONSE], peak = 0, off_peak = -INFINITY;
    int n_found = 0;
    for (int i = 0; i < RESPONSE; i++) {
        bool is_max = (i == 0 || response[i] >= response[i - 1]) &&
                      (i == RESPONSE - 1 || response[i] > response[i + 1]);
        if (is_max && response[i] > THRESHOLD) {
            found[n_found++] = i;
            peak = fmax(peak, response[i]);
        }
    }
    for (int i = 0; i < RESPONSE; i++) {
        bool near = false;
        for (int j = 0; j < 3; j++)
            near = near || abs(i - planted[j]) <= 1;
        if (!near)
            off_peak = fmax(off_peak, response[i]);
    }
    double planted_d[3] = {planted[0], planted[1], planted[2]};
    printf("\nmotif detector: kernel = the motif (a triangle-wave period) / its squared norm (%d taps)\n",
           MOTIF);
    print_tuple("  motif planted at   ", 3, planted_d, "\n");
    print_tuple("  response > 0.7 at  ", n_found, found, "\n");
    printf("  largest response away from the motifs: %.3f (a mere peak at %d gives less)\n", off_peak, bump_at);
    lecture_series(run, "detector_planted", 3, planted_d);
    lecture_series(run, "detector_found", n_found, found);
    lecture_number(run, "detector_largest_off_motif_response", off_peak);

    double pos[SIGNAL], xs[SIGNAL], rpos[RESPONSE], thr[2] = {THRESHOLD, THRESHOLD}, thr_x[2] = {0, SIGNAL - 1};
    for (int i = 0; i < SIGNAL; i++)
        pos[i] = i, xs[i] = x[i];
    for (int i = 0; i < RESPONSE; i++)
        rpos[i] = i + (MOTIF - 1) / 2.0; /* drawn at the centre of its window */
    double mx[3 * MOTIF], my[3 * MOTIF];
    for (int j = 0; j < 3; j++)
        for (int k = 0; k < MOTIF; k++)
            mx[j * MOTIF + k] = planted[j] + k, my[j * MOTIF + k] = x[planted[j] + k];
    plot *p = plot_open(lecture_path(run, "conv1d_detector.png"), 900, 650);
    plot_panels(p, 1, 2);
    plot_axes(p, 0, SIGNAL - 1, -1.6, 2.2, "position", "x", "A noisy signal with three copies of the motif");
    plot_line(p, SIGNAL, pos, xs, PLOT_BLUE, "signal");
    plot_points(p, 3 * MOTIF, mx, my, PLOT_RED, 2, "the motif (one triangle-wave period)");
    plot_legend(p);
    plot_axes(p, 0, SIGNAL - 1, -1.2, 1.8, "position (centre of the window)", "x ⊛ w",
              "Response of the kernel w = motif / |motif|#u2#d");
    plot_line(p, RESPONSE, rpos, response, PLOT_RED, "response");
    plot_dashed_line(p, 2, thr_x, thr, PLOT_GREY, "threshold 0.7");
    plot_legend(p);
    if (!plot_close(p))
        return 1;
    lecture_figure(run, "conv1d_detector.png",
                   "A convolution as a motif detector: the kernel is the motif itself (scaled), so the response "
                   "peaks at about 1 where the motif sits; noise and a single peak (near position 59) stay "
                   "below the threshold.");
    lecture_note(run, "The detector finds the motif at exactly the %d planted positions; its largest response "
                      "elsewhere is %.2f.",
                 n_found, off_peak);
    return 0;
}

/* ---- a 2-D multichannel convolution ---- */

/* A colour image [1, 3, SIDE, SIDE] on a light grey background: a red disk,
 * a green square and a blue bar. */
static pf_tensor *shapes_image(pf_ctx *ctx)
{
    pf_tensor *img = pf_full(ctx, 0.85, PF_DIMS(1, 3, SIDE, SIDE));
    float *v = pf_data_f32(img);
    if (!v)
        return NULL;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            float rgb[3] = {0.85f, 0.85f, 0.85f};
            if ((x - 15) * (x - 15) + (y - 15) * (y - 15) <= 81)
                rgb[0] = 0.9f, rgb[1] = 0.1f, rgb[2] = 0.1f;
            else if (x >= 26 && x < 42 && y >= 6 && y < 22)
                rgb[0] = 0.1f, rgb[1] = 0.7f, rgb[2] = 0.2f;
            else if (x >= 8 && x < 40 && y >= 32 && y < 40)
                rgb[0] = 0.1f, rgb[1] = 0.2f, rgb[2] = 0.9f;
            for (int c = 0; c < 3; c++)
                v[(c * SIDE + y) * SIDE + x] = rgb[c];
        }
    return img;
}

static int multichannel(lecture_run *run, pf_ctx *params, pf_ctx *ctx)
{
    /* Conv2d(3, 3, kernel 3): weight [3 out, 3 in, 3, 3], bias [3]; no
     * padding, so the output is 2 pixels smaller on each side. */
    pf_module *conv = pf_nn_conv2d(params, 3, 3, 3, NULL);
    pf_named_tensor *p;
    if (!conv || pf_module_parameters(conv, &p) != 2)
        return lecture_fail(run, "the Conv2d layer");
    int64_t conv_count = pf_module_num_parameters(conv);

    /* Our kernels: Sobel filters on the mean of the three channels, and a
     * 1x1 "red minus the others" on the centre tap. */
    static const float sobel_x[9] = {-1, 0, 1, -2, 0, 2, -1, 0, 1}, sobel_y[9] = {-1, -2, -1, 0, 0, 0, 1, 2, 1};
    float w[3 * 3 * 9] = {0};
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 9; k++) {
            w[(0 * 3 + c) * 9 + k] = sobel_x[k] / 3;
            w[(1 * 3 + c) * 9 + k] = sobel_y[k] / 3;
        }
    w[(2 * 3 + 0) * 9 + 4] = 1, w[(2 * 3 + 1) * 9 + 4] = -0.5f, w[(2 * 3 + 2) * 9 + 4] = -0.5f;
    if (!pf_copy_(p[0].tensor, pf_from_f32(ctx, w, PF_DIMS(3, 3, 3, 3))) || !pf_fill_(p[1].tensor, 0))
        return lecture_fail(run, "setting the kernels");

    pf_tensor *img = shapes_image(ctx);
    pf_tensor *out = pf_forward(ctx, conv, img);
    char in_shape[64], out_shape[64], w_shape[64];
    if (!out)
        return lecture_fail(run, "the 2-D convolution");
    printf("\nConv2d(3, 3, kernel_size=3): input %s, weight %s, output %s\n",
           pf_shape_str(img, in_shape, sizeof in_shape), pf_shape_str(p[0].tensor, w_shape, sizeof w_shape),
           pf_shape_str(out, out_shape, sizeof out_shape));
    lecture_text(run, "conv2d_output_shape", out_shape);

    /* The figure: the input, then each output channel in grey, 0 at mid-grey
     * and +-max|channel| at white / black. */
    int64_t side = SIDE - 2;
    pf_tensor *tiles[4] = {pf_narrow(ctx, pf_narrow(ctx, img, 2, 1, side), 3, 1, side)}; /* the same pixels */
    for (int c = 0; c < 3; c++) {
        pf_tensor *ch = pf_narrow(ctx, out, 1, c, 1);
        pf_tensor *m = pf_max_dim(ctx, pf_flatten(ctx, pf_abs(ctx, ch), 0, -1), 0, false, NULL);
        pf_tensor *scaled = pf_add_scalar(ctx, pf_mul_scalar(ctx, pf_div(ctx, ch, m), 0.5), 0.5);
        tiles[c + 1] = pf_expand(ctx, scaled, PF_DIMS(1, 3, side, side));
    }
    pf_tensor *grid = pf_cat(ctx, 4, tiles, 0);
    if (!grid)
        return lecture_fail(run, "the figure's images");
    if (!image_grid_png(lecture_path(run, "conv2d_channels.png"), grid, 4, 0, 1, 4))
        return 1;
    lecture_figure(run, "conv2d_channels.png",
                   "A 2-D multichannel convolution, Conv2d(3, 3, 3): the colour input (left, the pixels under "
                   "the output), then its three output channels, each a 3x3x3 kernel summed over the input's "
                   "R, G, B: vertical edges (Sobel x), horizontal edges (Sobel y), and red minus the mean of "
                   "green and blue (grey = 0, white positive, black negative).");

    /* Parameters: a dense map of a 256x256 colour image to another, and
     * that convolution. */
    int64_t size = 256 * 256 * 3, dense = size * size;
    printf("\nparameters of a linear map 256x256x3 -> 256x256x3: (256*256*3)^2 = %lld ~ %.3g (%.1f GB in "
           "float32)\n",
           (long long)dense, (double)dense, 4.0 * (double)dense / 1e9);
    printf("parameters of Conv2d(3, 3, 3) on the same image:     3*3*3*3 + 3 = %lld\n", (long long)conv_count);
    lecture_number(run, "dense_parameters", (double)dense);
    lecture_number(run, "conv_parameters", (double)conv_count);
    lecture_note(run, "A linear map from a 256x256 colour image to another needs (256·256·3)² = %lld ≈ %.3g "
                      "parameters (%.0f GB in float32); a 3x3 convolution from 3 to 3 channels has %lld.",
                 (long long)dense, (double)dense, 4.0 * (double)dense / 1e9, (long long)conv_count);
    return 0;
}

int lecture_conv1d(lecture_run *run)
{
    pf_ctx *params = pf_ctx_new(0), *ctx = pf_ctx_new(0);
    int status = derivative(run, ctx);
    if (status == 0)
        status = detector(run, ctx);
    if (status == 0)
        status = multichannel(run, params, ctx);
    pf_ctx_free(ctx);
    pf_ctx_free(params);
    return status;
}
