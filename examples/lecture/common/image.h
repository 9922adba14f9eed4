/*
 * image.h — image grids as PNG files through libpng: MNIST digits,
 * reconstructions, filters.
 */
#ifndef PF_LECTURE_IMAGE_H
#define PF_LECTURE_IMAGE_H

#include <stdbool.h>

#include <profond.h>

/* Writes the images of t — [N, H, W], [N, 1, H, W] (grey) or [N, 3, H, W]
 * (colour), any float dtype — as a grid of `cols` columns with a 1-pixel
 * border, each pixel scaled from [lo, hi] to 0..255 (clamped), magnified
 * `zoom` times. Returns false with a message on stderr on failure. */
bool image_grid_png(const char *path, const pf_tensor *t, int cols, double lo, double hi, int zoom);

#endif
