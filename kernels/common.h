/* SPDX-License-Identifier: Apache-2.0
 * Helpers shared by every kernel program: op codes, fused activations and
 * the unary/binary op switch. */
#include "opcodes.h"

/* Activation fused into a producer (Conv, Gemm). */
inline float apply_act (float v, int act, float a, float b)
{
  switch (act) {
    case ACT_RELU: return fmax (v, 0.0f);
    case ACT_CLIP: return fmin (fmax (v, a), b);
    case ACT_LEAKYRELU: return v < 0.0f ? v * a : v;
    case ACT_HARDSWISH: return v * fmin (fmax (v / 6.0f + 0.5f, 0.0f), 1.0f);
    case ACT_SIGMOID: return 1.0f / (1.0f + exp (-v));
    default: return v;
  }
}

inline float unary_op (float x, int op, float a, float b)
{
  switch (op) {
    case UOP_IDENTITY: return x;
    case UOP_RELU: return fmax (x, 0.0f);
    case UOP_LEAKYRELU: return x < 0.0f ? x * a : x;
    case UOP_SIGMOID:
      return x >= 0.0f ? 1.0f / (1.0f + exp (-x)) : exp (x) / (1.0f + exp (x));
    case UOP_TANH: return tanh (x);
    case UOP_ELU: return x < 0.0f ? a * (exp (x) - 1.0f) : x;
    case UOP_SELU: return x <= 0.0f ? b * (a * exp (x) - a) : b * x;
    case UOP_HARDSIGMOID: return fmax (0.0f, fmin (1.0f, a * x + b));
    case UOP_HARDSWISH: return x * fmax (0.0f, fmin (1.0f, x / 6.0f + 0.5f));
    case UOP_CLIP: return fmin (fmax (x, a), b);
    case UOP_ABS: return fabs (x);
    case UOP_NEG: return -x;
    case UOP_EXP: return exp (x);
    case UOP_LOG: return log (x);
    case UOP_SQRT: return sqrt (x);
    case UOP_RECIPROCAL: return 1.0f / x;
    case UOP_FLOOR: return floor (x);
    case UOP_CEIL: return ceil (x);
    case UOP_SOFTPLUS: return x > 20.0f ? x : log1p (exp (x));
    case UOP_SOFTSIGN: return x / (1.0f + fabs (x));
    case UOP_SIN: return sin (x);
    case UOP_COS: return cos (x);
    case UOP_TAN: return tan (x);
    case UOP_ASIN: return asin (x);
    case UOP_ACOS: return acos (x);
    case UOP_ATAN: return atan (x);
    case UOP_SINH: return sinh (x);
    case UOP_COSH: return cosh (x);
    case UOP_ASINH: return asinh (x);
    case UOP_ACOSH: return acosh (x);
    case UOP_ATANH: return atanh (x);
    case UOP_ERF: return erf (x);
    case UOP_ROUND: return rint (x);
    case UOP_SIGN: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
    case UOP_THRESHOLDEDRELU: return x > a ? x : 0.0f;
    case UOP_CELU: return fmax (0.0f, x) + fmin (0.0f, a * (exp (x / a) - 1.0f));
    case UOP_SHRINK: return x < -b ? x + a : (x > b ? x - a : 0.0f);
    case UOP_AFFINE: return x * a + b;
    case UOP_MISH: return x * tanh (x > 20.0f ? x : log1p (exp (x)));
    default: return x;
  }
}

inline float binary_op (float x, float y, int op)
{
  switch (op) {
    case BOP_ADD: return x + y;
    case BOP_SUB: return x - y;
    case BOP_MUL: return x * y;
    case BOP_DIV: return x / y;
    case BOP_POW: return pow (x, y);
    case BOP_MAX: return isnan (x) || isnan (y) ? NAN : fmax (x, y);
    case BOP_MIN: return isnan (x) || isnan (y) ? NAN : fmin (x, y);
    case BOP_PRELU: return x < 0.0f ? x * y : x;
    case BOP_FMOD: return fmod (x, y);
    default: return x;
  }
}
