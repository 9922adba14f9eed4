/*
 * random.c — the one random generator of profond: xoshiro256** (Blackman and
 * Vigna, 2018) seeded through splitmix64, and the tensor fillers built on it.
 *
 * uniform:  top 53 bits of a draw, times 2^-53, in [0, 1)
 * normal:   Box-Muller on two uniforms (no cached second value, so a stream
 *           of normals depends only on the seed and the count)
 * below(n): Lemire's multiply-shift with rejection, unbiased
 */
#include <math.h>

#include "tensor/tensor_internal.h"

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void pf_rng_seed(pf_rng *rng, uint64_t seed)
{
    uint64_t state = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&state);
}

uint64_t pf_rng_next(pf_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double pf_rng_uniform(pf_rng *rng) { return (double)(pf_rng_next(rng) >> 11) * 0x1.0p-53; }

double pf_rng_normal(pf_rng *rng)
{
    double u1 = pf_rng_uniform(rng), u2 = pf_rng_uniform(rng);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586476925286766559 * u2);
}

uint64_t pf_rng_below(pf_rng *rng, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Lemire: the high half of x * n is uniform once the low half clears
     * the threshold -n mod n. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        unsigned __int128 m = (unsigned __int128)pf_rng_next(rng) * n;
        if ((uint64_t)m >= threshold)
            return (uint64_t)(m >> 64);
    }
}

static pf_rng default_rng = {{0}};
static bool default_seeded;

pf_rng *pf_default_rng(void)
{
    if (!default_seeded) {
        pf_rng_seed(&default_rng, 0);
        default_seeded = true;
    }
    return &default_rng;
}

void pf_manual_seed(uint64_t seed)
{
    pf_rng_seed(&default_rng, seed);
    default_seeded = true;
}

pf_tensor *pf_uniform(pf_ctx *ctx, double low, double high, int ndim, const int64_t *shape)
{
    if (!(low <= high))
        return pf_fail("pf_uniform: low %g is above high %g", low, high);
    pf_tensor *t = pf_empty(ctx, PF_F32, ndim, shape);
    if (!t)
        return NULL;
    float *p = pf_tensor_data(t);
    pf_rng *rng = pf_default_rng();
    for (int64_t i = 0; i < pf_numel(t); i++)
        p[i] = (float)(low + (high - low) * pf_rng_uniform(rng));
    return t;
}

pf_tensor *pf_rand(pf_ctx *ctx, int ndim, const int64_t *shape) { return pf_uniform(ctx, 0, 1, ndim, shape); }

pf_tensor *pf_randn(pf_ctx *ctx, int ndim, const int64_t *shape)
{
    pf_tensor *t = pf_empty(ctx, PF_F32, ndim, shape);
    if (!t)
        return NULL;
    float *p = pf_tensor_data(t);
    pf_rng *rng = pf_default_rng();
    for (int64_t i = 0; i < pf_numel(t); i++)
        p[i] = (float)pf_rng_normal(rng);
    return t;
}

pf_tensor *pf_randint(pf_ctx *ctx, int64_t low, int64_t high, int ndim, const int64_t *shape)
{
    if (low >= high)
        return pf_fail("pf_randint: empty range [%lld, %lld)", (long long)low, (long long)high);
    pf_tensor *t = pf_empty(ctx, PF_I64, ndim, shape);
    if (!t)
        return NULL;
    int64_t *p = pf_tensor_data(t);
    pf_rng *rng = pf_default_rng();
    uint64_t span = (uint64_t)high - (uint64_t)low;
    for (int64_t i = 0; i < pf_numel(t); i++)
        p[i] = (int64_t)((uint64_t)low + pf_rng_below(rng, span));
    return t;
}

pf_tensor *pf_randperm(pf_ctx *ctx, int64_t n)
{
    if (n < 0)
        return pf_fail("pf_randperm: negative size %lld", (long long)n);
    pf_tensor *t = pf_empty(ctx, PF_I64, 1, &n);
    if (!t)
        return NULL;
    int64_t *p = pf_tensor_data(t);
    for (int64_t i = 0; i < n; i++)
        p[i] = i;
    pf_rng *rng = pf_default_rng();
    for (int64_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
        int64_t j = (int64_t)pf_rng_below(rng, (uint64_t)i + 1);
        int64_t tmp = p[i];
        p[i] = p[j];
        p[j] = tmp;
    }
    return t;
}
