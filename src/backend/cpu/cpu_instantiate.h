/*
 * cpu_instantiate.h — compiles a kernel .inc file for float and for double.
 * A kernel file names its loops' file and includes this header:
 *
 *     #define PF_CPU_KERNELS "backend/cpu/cpu_softmax.inc"
 *     #include "backend/cpu/cpu_instantiate.h"
 *
 * which defines, for each type in turn, T (the element type), TSUFFIX
 * (f32 or f64, used by TNAME) and TDTYPE (its pf_dtype). See cpu_types.h.
 * No include guard: a file may instantiate more than one .inc.
 */
#include "backend/cpu/cpu_types.h"

#define T float
#define TSUFFIX f32
#define TDTYPE PF_F32
#include PF_CPU_KERNELS
#undef T
#undef TSUFFIX
#undef TDTYPE

#define T double
#define TSUFFIX f64
#define TDTYPE PF_F64
#include PF_CPU_KERNELS
#undef T
#undef TSUFFIX
#undef TDTYPE

#undef PF_CPU_KERNELS
