/*
 * ctx.c — memory contexts: arenas that own tensors.
 *
 * A context is a list of blocks obtained from malloc. Allocation bumps a
 * pointer in the current block; when it is full a new block, at least twice
 * the size of the last, is added. pf_ctx_reset forgets everything at once and,
 * if more than one block was needed, replaces them by a single block of the
 * total size, so that the next step of the same shape fits without a malloc.
 */
#include <stdlib.h>
#include <string.h>

#include "profond.h"
#include "tensor/tensor_internal.h"

#define PF_CTX_ALIGN 64
#define PF_CTX_DEFAULT_BYTES ((size_t)1 << 20)

typedef struct pf_block {
    struct pf_block *next;
    size_t size;   /* usable bytes after the header */
    size_t used;
    _Alignas(PF_CTX_ALIGN) unsigned char data[];
} pf_block;

struct pf_ctx {
    pf_block *head;       /* the block being filled; older ones follow */
    size_t capacity;      /* sum of block sizes */
    size_t used;          /* bytes handed out since the last reset */
    size_t peak;
    size_t system_allocs;
};

/* Fix (tests): malloc only guarantees 16-byte alignment, so block->data
 * (and every tensor's storage) was not 64-byte aligned as backend.h promises.
 * Blocks now come from aligned_alloc, whose size must be a multiple of the
 * alignment. */
static pf_block *block_malloc(size_t size)
{
    size_t bytes = sizeof(pf_block) + size;
    if (bytes < size)
        return NULL;
    bytes = (bytes + PF_CTX_ALIGN - 1) & ~(size_t)(PF_CTX_ALIGN - 1);
    return bytes ? aligned_alloc(PF_CTX_ALIGN, bytes) : NULL;
}

static pf_block *block_new(pf_ctx *ctx, size_t size)
{
    pf_block *b = block_malloc(size);
    if (!b)
        return pf_fail("pf_ctx: out of memory allocating a block of %zu bytes", size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    ctx->capacity += size;
    ctx->system_allocs++;
    return b;
}

pf_ctx *pf_ctx_new(size_t initial_bytes)
{
    pf_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return pf_fail("pf_ctx_new: out of memory");
    ctx->head = block_new(ctx, initial_bytes ? initial_bytes : PF_CTX_DEFAULT_BYTES);
    if (!ctx->head) {
        free(ctx);
        return NULL;
    }
    return ctx;
}

void *pf_ctx_alloc(pf_ctx *ctx, size_t bytes)
{
    if (!ctx)
        return pf_fail("pf_ctx_alloc: NULL context");
    size_t rounded = (bytes + PF_CTX_ALIGN - 1) & ~(size_t)(PF_CTX_ALIGN - 1);
    if (rounded < bytes)
        return pf_fail("pf_ctx_alloc: size %zu overflows", bytes);
    pf_block *b = ctx->head;
    if (b->size - b->used < rounded) {
        size_t size = b->size * 2;
        if (size < rounded)
            size = rounded;
        pf_block *nb = block_new(ctx, size);
        if (!nb)
            return NULL;
        nb->next = b;
        ctx->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += rounded;
    ctx->used += rounded;
    if (ctx->used > ctx->peak)
        ctx->peak = ctx->used;
    return p;
}

void *pf_ctx_alloc_zeroed(pf_ctx *ctx, size_t bytes)
{
    void *p = pf_ctx_alloc(ctx, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void pf_ctx_reset(pf_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->head->next) {
        /* Several blocks: merge them into one that holds a whole step. If
         * that block cannot be had, keep the newest (largest) block alone. */
        size_t total = ctx->capacity;
        pf_block *merged = block_malloc(total);
        pf_block *keep = merged ? NULL : ctx->head;
        for (pf_block *b = ctx->head; b;) {
            pf_block *next = b->next;
            if (b != keep)
                free(b);
            b = next;
        }
        if (merged) {
            merged->size = total;
            ctx->system_allocs++;
            ctx->head = merged;
        }
        ctx->head->next = NULL;
        ctx->capacity = ctx->head->size;
    }
    ctx->head->used = 0;
    ctx->used = 0;
}

void pf_ctx_free(pf_ctx *ctx)
{
    if (!ctx)
        return;
    for (pf_block *b = ctx->head; b;) {
        pf_block *next = b->next;
        free(b);
        b = next;
    }
    free(ctx);
}

pf_ctx_stats pf_ctx_get_stats(const pf_ctx *ctx)
{
    pf_ctx_stats s = {0};
    if (ctx) {
        s.used_bytes = ctx->used;
        s.capacity_bytes = ctx->capacity;
        s.peak_bytes = ctx->peak;
        s.system_allocs = ctx->system_allocs;
    }
    return s;
}
