/*
 * cpu_types.h — how the CPU kernels are written once for float and double.
 *
 * A kernel file keeps its loops in a `.inc` file that uses the element type
 * T and names its functions with TNAME(name). The `.c` file has the `.inc`
 * compiled twice by cpu_instantiate.h: with T = float (names ending in _f32)
 * and with T = double (_f64). <tgmath.h> makes exp, log, ... pick expf or
 * exp from T.
 */
#ifndef PF_CPU_TYPES_H
#define PF_CPU_TYPES_H

#define PF_CAT2(a, b) a##_##b
#define PF_CAT(a, b) PF_CAT2(a, b)
#define TNAME(name) PF_CAT(name, TSUFFIX)

#endif
