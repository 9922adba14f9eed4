/*
 * plot.c — the figure helpers of plot.h, on PLplot's C API with the
 * pngcairo device.
 *
 * PLplot ends the process when it cannot go on (plexit), so plot_open checks
 * beforehand what can fail: that the pngcairo device is there and that the
 * output file can be written.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plplot/plplot.h>

#include "plot.h"

#define MAX_LEGEND 16
/* PLplot's colour map 0: index 0 is the background; our colour c is index
 * c + 1, its light variant c + 1 + PLOT_COLORS. */
static const unsigned char palette[PLOT_COLORS][3] = {
    {0, 0, 0},       {31, 119, 180}, {214, 39, 40},   {44, 160, 44},  {255, 127, 14},
    {148, 103, 189}, {140, 86, 75},  {127, 127, 127}, {23, 190, 207}, {227, 119, 194},
};

struct plot {
    char path[1024];
    int width, height, cols, rows;
    bool started, failed;
    int n_legend;
    PLINT legend_opt[MAX_LEGEND], legend_color[MAX_LEGEND], legend_style[MAX_LEGEND];
    PLINT legend_symbol_color[MAX_LEGEND], legend_symbol_number[MAX_LEGEND];
    PLFLT legend_width[MAX_LEGEND], legend_symbol_scale[MAX_LEGEND];
    const char *legend_text[MAX_LEGEND];
    const char *legend_symbols[MAX_LEGEND];
    char legend_store[MAX_LEGEND][128];
    double xmin, xmax, ymin, ymax;
    bool log_x, log_y;      /* the panel's axes are logarithmic: data are drawn at log10 */
};

static int color_index(int c) { return (c >= 0 && c < PLOT_COLORS ? c : 0) + 1; }
static int light_index(int c) { return color_index(c) + PLOT_COLORS; }

static bool has_pngcairo(void)
{
    const char *menu_store[128], *name_store[128];
    const char **menu = menu_store, **names = name_store;
    int n = 128;
    plgDevs(&menu, &names, &n);
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], "pngcairo") == 0)
            return true;
    return false;
}

plot *plot_open(const char *png_path, int width, int height)
{
    if (!has_pngcairo()) {
        fprintf(stderr, "plot: PLplot's pngcairo device is missing (install plplot-driver-cairo)\n");
        return NULL;
    }
    FILE *probe = fopen(png_path, "wb");
    if (!probe) {
        fprintf(stderr, "plot: cannot write %s\n", png_path);
        return NULL;
    }
    fclose(probe);
    plot *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->path, sizeof p->path, "%s", png_path);
    p->width = width;
    p->height = height;
    p->cols = p->rows = 1;
    return p;
}

void plot_panels(plot *p, int cols, int rows)
{
    if (p && !p->started) {
        p->cols = cols;
        p->rows = rows;
    }
}

static void start(plot *p)
{
    if (p->started)
        return;
    plsdev("pngcairo");
    plsfnam(p->path);
    plspage(0, 0, p->width, p->height, 0, 0);
    plscmap0n(1 + 2 * PLOT_COLORS);
    plscol0(0, 255, 255, 255);
    for (int c = 0; c < PLOT_COLORS; c++) {
        const unsigned char *rgb = palette[c];
        plscol0(color_index(c), rgb[0], rgb[1], rgb[2]);
        plscol0(light_index(c), (rgb[0] + 3 * 255) / 4, (rgb[1] + 3 * 255) / 4, (rgb[2] + 3 * 255) / 4);
    }
    plssub(p->cols, p->rows);
    plinit();
    plfontld(1);
    p->started = true;
}

static void axes(plot *p, double xmin, double xmax, double ymin, double ymax, const char *xlabel,
                 const char *ylabel, const char *title, bool log_x, bool log_y)
{
    if (!p)
        return;
    start(p);
    p->n_legend = 0;
    p->xmin = xmin;
    p->xmax = xmax;
    p->ymin = ymin;
    p->ymax = ymax;
    p->log_x = log_x;
    p->log_y = log_y;
    pladv(0);
    plvsta();
    plcol0(color_index(PLOT_BLACK));
    plschr(0, 0.9);
    plwind(log_x ? log10(xmin) : xmin, log_x ? log10(xmax) : xmax, log_y ? log10(ymin) : ymin,
           log_y ? log10(ymax) : ymax);
    plbox(log_x ? "bcnstl" : "bcnst", 0, 0, log_y ? "bcnstlv" : "bcnstv", 0, 0);
    pllab(xlabel ? xlabel : "", ylabel ? ylabel : "", title ? title : "");
}

void plot_axes(plot *p, double xmin, double xmax, double ymin, double ymax, const char *xlabel, const char *ylabel,
               const char *title)
{
    axes(p, xmin, xmax, ymin, ymax, xlabel, ylabel, title, false, false);
}

void plot_axes_log_y(plot *p, double xmin, double xmax, double ymin, double ymax, const char *xlabel,
                     const char *ylabel, const char *title)
{
    axes(p, xmin, xmax, ymin, ymax, xlabel, ylabel, title, false, true);
}

void plot_axes_log_xy(plot *p, double xmin, double xmax, double ymin, double ymax, const char *xlabel,
                      const char *ylabel, const char *title)
{
    axes(p, xmin, xmax, ymin, ymax, xlabel, ylabel, title, true, true);
}

/* The n points in the panel's drawing coordinates (log10 on a logarithmic
 * axis), in u and v (malloc'ed; free both). False if out of memory. */
static bool to_panel(plot *p, int n, const double *x, const double *y, PLFLT **u, PLFLT **v)
{
    *u = malloc(sizeof **u * (size_t)n);
    *v = malloc(sizeof **v * (size_t)n);
    if (!*u || !*v) {
        free(*u);
        free(*v);
        p->failed = true;
        return false;
    }
    for (int i = 0; i < n; i++) {
        (*u)[i] = p->log_x ? log10(x[i]) : x[i];
        (*v)[i] = p->log_y ? log10(y[i]) : y[i];
    }
    return true;
}

static void add_legend(plot *p, const char *text, int color, bool line, int style, int symbol)
{
    if (!text || p->n_legend == MAX_LEGEND)
        return;
    int i = p->n_legend++;
    snprintf(p->legend_store[i], sizeof p->legend_store[i], "%s", text);
    p->legend_text[i] = p->legend_store[i];
    p->legend_opt[i] = line ? PL_LEGEND_LINE : PL_LEGEND_SYMBOL;
    p->legend_color[i] = color_index(color);
    p->legend_style[i] = style;
    p->legend_width[i] = 2;
    p->legend_symbol_color[i] = color_index(color);
    p->legend_symbol_number[i] = 3;
    p->legend_symbol_scale[i] = 1;
    static const char *glyphs[] = {"#(850)", "#(228)", "#(840)", "#(841)"};
    p->legend_symbols[i] = glyphs[symbol >= 0 && symbol < 4 ? symbol : 0];
}

static void line(plot *p, int n, const double *x, const double *y, int color, const char *legend, int style)
{
    PLFLT *u, *v;
    if (!p || !p->started || n < 2 || !to_panel(p, n, x, y, &u, &v))
        return;
    plcol0(color_index(color));
    pllsty(style);
    plwidth(2);
    plline(n, u, v);
    free(u);
    free(v);
    pllsty(1);
    plwidth(1);
    add_legend(p, legend, color, true, style, 0);
}

void plot_line(plot *p, int n, const double *x, const double *y, int color, const char *legend)
{
    line(p, n, x, y, color, legend, 1);
}

void plot_dashed_line(plot *p, int n, const double *x, const double *y, int color, const char *legend)
{
    line(p, n, x, y, color, legend, 2);
}

void plot_points(plot *p, int n, const double *x, const double *y, int color, int symbol, const char *legend)
{
    PLFLT *u, *v;
    if (!p || !p->started || n < 1 || !to_panel(p, n, x, y, &u, &v))
        return;
    static const int codes[] = {850, 228, 840, 841}; /* Hershey: dot, cross, circle, square */
    plcol0(color_index(color));
    plssym(0, 0.8);
    plsym(n, u, v, codes[symbol >= 0 && symbol < 4 ? symbol : 0]);
    free(u);
    free(v);
    add_legend(p, legend, color, false, 1, symbol);
}

/* Grid coordinates for plcont: cell (i, j) is at the i-th x and j-th y of
 * the panel's ranges. */
typedef struct grid_map {
    double x0, dx, y0, dy;
} grid_map;

static void grid_to_world(PLFLT i, PLFLT j, PLFLT *x, PLFLT *y, PLPointer data)
{
    const grid_map *g = data;
    *x = g->x0 + i * g->dx;
    *y = g->y0 + j * g->dy;
}

static PLFLT **rows_of(int nx, int ny, const double *z)
{
    PLFLT **rows = malloc(sizeof *rows * (size_t)nx);
    if (rows)
        for (int i = 0; i < nx; i++)
            rows[i] = (PLFLT *)(z + (size_t)i * (size_t)ny);
    return rows;
}

void plot_contour(plot *p, int nx, int ny, const double *z, int nlevels, const double *levels, int color)
{
    if (!p || !p->started || nx < 2 || ny < 2)
        return;
    PLFLT **rows = rows_of(nx, ny, z);
    if (!rows) {
        p->failed = true;
        return;
    }
    grid_map g = {p->xmin, (p->xmax - p->xmin) / (nx - 1), p->ymin, (p->ymax - p->ymin) / (ny - 1)};
    plcol0(color_index(color));
    plcont((PLFLT_MATRIX)rows, nx, ny, 1, nx, 1, ny, levels, nlevels, grid_to_world, &g);
    free(rows);
}

void plot_regions(plot *p, int nx, int ny, const double *z, int color_positive, int color_negative)
{
    if (!p || !p->started || nx < 2 || ny < 2)
        return;
    PLFLT **rows = rows_of(nx, ny, z);
    if (!rows) {
        p->failed = true;
        return;
    }
    double lo = 0, hi = 0;
    for (long k = 0; k < (long)nx * ny; k++) {
        lo = z[k] < lo ? z[k] : lo;
        hi = z[k] > hi ? z[k] : hi;
    }
    plshade((PLFLT_MATRIX)rows, nx, ny, NULL, p->xmin, p->xmax, p->ymin, p->ymax, lo - 1, 0, 0,
            light_index(color_negative), 1, 0, 0, 0, 0, plfill, 1, NULL, NULL);
    plshade((PLFLT_MATRIX)rows, nx, ny, NULL, p->xmin, p->xmax, p->ymin, p->ymax, 0, hi + 1, 0,
            light_index(color_positive), 1, 0, 0, 0, 0, plfill, 1, NULL, NULL);
    free(rows);
    /* Redraw the box over the fill. */
    plcol0(color_index(PLOT_BLACK));
    plbox("bcst", 0, 0, "bcst", 0, 0);
}

void plot_legend(plot *p) { plot_legend_at(p, PLOT_TOP_RIGHT); }

void plot_legend_at(plot *p, int corner)
{
    if (!p || !p->started || p->n_legend == 0)
        return;
    PLINT position = PL_POSITION_INSIDE;
    position |= corner == PLOT_BOTTOM_LEFT || corner == PLOT_BOTTOM_RIGHT ? PL_POSITION_BOTTOM : PL_POSITION_TOP;
    position |= corner == PLOT_TOP_LEFT || corner == PLOT_BOTTOM_LEFT ? PL_POSITION_LEFT : PL_POSITION_RIGHT;
    PLFLT w, h;
    PLINT box_colors[MAX_LEGEND] = {0}, box_patterns[MAX_LEGEND] = {0};
    PLFLT box_scales[MAX_LEGEND] = {0}, box_widths[MAX_LEGEND] = {0};
    PLINT text_colors[MAX_LEGEND];
    for (int i = 0; i < p->n_legend; i++)
        text_colors[i] = color_index(PLOT_BLACK);
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, position,
             0.02, 0.02, 0.08, 0, color_index(PLOT_GREY), 1, 0, 0, p->n_legend, p->legend_opt, 1.0, 0.8, 2.0, 0,
             text_colors, p->legend_text, box_colors, box_patterns, box_scales, box_widths, p->legend_color,
             p->legend_style, p->legend_width, p->legend_symbol_color, p->legend_symbol_scale,
             p->legend_symbol_number, p->legend_symbols);
}

bool plot_close(plot *p)
{
    if (!p)
        return false;
    if (p->started)
        plend1();
    bool ok = p->started && !p->failed;
    FILE *f = fopen(p->path, "rb");
    unsigned char sig[8] = {0};
    ok = ok && f && fread(sig, 1, 8, f) == 8 && memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0;
    if (f)
        fclose(f);
    if (!ok)
        fprintf(stderr, "plot: %s was not written\n", p->path);
    free(p);
    return ok;
}
