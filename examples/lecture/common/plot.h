/*
 * plot.h — figures for the lecture's experiments, drawn by PLplot (Debian's
 * libplplot) with its cairo PNG driver: axes with labels and a title,
 * curves, point clouds, contour lines and filled decision regions, and a
 * legend. One figure at a time.
 *
 *     plot *p = plot_open(lecture_path(run, "tanh.png"), 800, 600);
 *     plot_axes(p, -3, 3, -1.2, 1.2, "x", "y", "tanh");
 *     plot_line(p, n, x, y, PLOT_BLUE, "tanh(x)");
 *     plot_close(p);
 */
#ifndef PF_LECTURE_PLOT_H
#define PF_LECTURE_PLOT_H

#include <stdbool.h>

typedef struct plot plot;

/* Colours of curves and points. */
enum {
    PLOT_BLACK = 0, PLOT_BLUE, PLOT_RED, PLOT_GREEN, PLOT_ORANGE, PLOT_PURPLE, PLOT_BROWN, PLOT_GREY,
    PLOT_CYAN, PLOT_MAGENTA, PLOT_COLORS
};

/* A new PNG figure of width x height pixels; NULL (with a message on
 * stderr) if PLplot or its cairo driver is missing. */
plot *plot_open(const char *png_path, int width, int height);
/* Splits the page into cols x rows panels; plot_axes then starts the next
 * panel. Call right after plot_open. */
void plot_panels(plot *p, int cols, int rows);
/* Starts a panel: data ranges, axis labels and title. _log_y: logarithmic
 * y, _log_xy: both axes logarithmic (ranges and data are given as they are,
 * positive on a logarithmic axis). */
void plot_axes(plot *p, double xmin, double xmax, double ymin, double ymax, const char *xlabel,
               const char *ylabel, const char *title);
void plot_axes_log_y(plot *p, double xmin, double xmax, double ymin, double ymax, const char *xlabel,
                     const char *ylabel, const char *title);
void plot_axes_log_xy(plot *p, double xmin, double xmax, double ymin, double ymax, const char *xlabel,
                      const char *ylabel, const char *title);
/* A curve; legend may be NULL. Dashed for style 1. */
void plot_line(plot *p, int n, const double *x, const double *y, int color, const char *legend);
void plot_dashed_line(plot *p, int n, const double *x, const double *y, int color, const char *legend);
/* Points (symbol 0: dot, 1: cross, 2: circle, 3: square); legend may be NULL. */
void plot_points(plot *p, int n, const double *x, const double *y, int color, int symbol, const char *legend);
/* Contour lines of z, given on a nx x ny grid (z[i * ny + j] at x_i, y_j)
 * spanning the panel's ranges, at nlevels levels. */
void plot_contour(plot *p, int nx, int ny, const double *z, int nlevels, const double *levels, int color);
/* Fills the regions of a nx x ny grid where z > 0 and z <= 0 in two light
 * colours (a classifier's decision regions). */
void plot_regions(plot *p, int nx, int ny, const double *z, int color_positive, int color_negative);
/* Draws the legend of the curves and points given so far in this panel, in
 * its top right corner (plot_legend) or in another corner. */
enum { PLOT_TOP_RIGHT, PLOT_TOP_LEFT, PLOT_BOTTOM_RIGHT, PLOT_BOTTOM_LEFT };
void plot_legend(plot *p);
void plot_legend_at(plot *p, int corner);
/* Writes the file. False if something failed. */
bool plot_close(plot *p);

#endif
