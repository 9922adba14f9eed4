/*
 * gan.h — the pieces of the lecture's GAN (gan.c) that its test drives one
 * step at a time: the two networks with their Adam optimizers, one
 * alternating training step, and sampling.
 */
#ifndef PF_LECTURE_GAN_H
#define PF_LECTURE_GAN_H

#include <stdbool.h>

#include <profond.h>

/* The latent size of the lecture run (DCGAN's), and the largest accepted. */
#define GAN_LATENT 100
#define GAN_MAX_LATENT 4096
/* The images: 1 x GAN_SIDE x GAN_SIDE, values in [-1, 1]. */
#define GAN_SIDE 28
/* Channels: G has 2·GAN_WIDTH at 7x7 then GAN_WIDTH at 14x14, D GAN_WIDTH at
 * 14x14 then 2·GAN_WIDTH at 7x7: 32 (64 makes an epoch about 2.5 times longer). */
#define GAN_WIDTH 32

typedef struct gan {
    int latent;
    pf_module *generator;      /* z [B, latent] -> images [B, 1, 28, 28] in [-1, 1] */
    pf_module *discriminator;  /* images -> logits [B, 1]; D = sigmoid(logit) in [0, 1] */
    pf_optim *opt_g, *opt_d;   /* Adam, lr 2e-4, betas (0.5, 0.999) */
} gan;

/* What one step measured: the discriminator's loss (BCE on the real batch
 * plus BCE on the fake one), the generator's (non-saturating) loss, and the
 * mean of D on the real and on the fake images before D's update. */
typedef struct gan_losses {
    double d, g, d_real, d_fake;
} gan_losses;

/* Makes the networks, DCGAN-initialised from the default generator (weights
 * N(0, 0.02), batch-norm scales N(1, 0.02)), and their optimizers, in
 * params. False with an error (pf_error) for a latent size outside
 * 1..GAN_MAX_LATENT. */
bool gan_make(gan *g, pf_ctx *params, int latent);

/* One step on a batch of real images [B, 1, 28, 28] in [-1, 1] (B >= 2):
 * z ~ N(0, I) from the default generator, fake = G(z); D's step on
 * BCE(D(real), 1) + BCE(D(detach(fake)), 0); then G's step on
 * BCE(D(fake), 1), with the updated D. Activations go into step (the caller
 * resets it). False with an error on failure. */
bool gan_step(gan *g, pf_ctx *step, pf_tensor *real, gan_losses *out);

/* G(z) in evaluation mode (batch norm's running statistics), without
 * recording gradients; the modules are left in training mode. */
pf_tensor *gan_sample(gan *g, pf_ctx *ctx, pf_tensor *z);

#endif
