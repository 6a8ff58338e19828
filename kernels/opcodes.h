/* SPDX-License-Identifier: Apache-2.0
 * Op codes shared by the kernels and the host code (src/cl/ops_*.c): plain
 * #defines, valid in both C and OpenCL C. */
#ifndef MACE_CL_OPCODES_H
#define MACE_CL_OPCODES_H

/* Activations fused into producers (same values as MaceActivation). */
#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_CLIP 2
#define ACT_LEAKYRELU 3
#define ACT_HARDSWISH 4
#define ACT_SIGMOID 5

/* Unary elementwise ops (alpha/beta as noted). */
#define UOP_IDENTITY 0
#define UOP_RELU 1
#define UOP_LEAKYRELU 2   /* alpha */
#define UOP_SIGMOID 3
#define UOP_TANH 4
#define UOP_ELU 5         /* alpha */
#define UOP_SELU 6        /* alpha, gamma = beta */
#define UOP_HARDSIGMOID 7 /* alpha, beta */
#define UOP_HARDSWISH 8
#define UOP_CLIP 9        /* min = alpha, max = beta */
#define UOP_ABS 10
#define UOP_NEG 11
#define UOP_EXP 12
#define UOP_LOG 13
#define UOP_SQRT 14
#define UOP_RECIPROCAL 15
#define UOP_FLOOR 16
#define UOP_CEIL 17
#define UOP_SOFTPLUS 18
#define UOP_SOFTSIGN 19
#define UOP_SIN 20
#define UOP_COS 21
#define UOP_TAN 22
#define UOP_ASIN 23
#define UOP_ACOS 24
#define UOP_ATAN 25
#define UOP_SINH 26
#define UOP_COSH 27
#define UOP_ASINH 28
#define UOP_ACOSH 29
#define UOP_ATANH 30
#define UOP_ERF 31
#define UOP_ROUND 32      /* half to even */
#define UOP_SIGN 33
#define UOP_THRESHOLDEDRELU 34 /* alpha */
#define UOP_CELU 35       /* alpha */
#define UOP_SHRINK 36     /* bias = alpha, lambd = beta */
#define UOP_AFFINE 37     /* x * alpha + beta */
#define UOP_MISH 38

/* Binary elementwise ops. */
#define BOP_ADD 0
#define BOP_SUB 1
#define BOP_MUL 2
#define BOP_DIV 3
#define BOP_POW 4
#define BOP_MAX 5
#define BOP_MIN 6
#define BOP_PRELU 7
#define BOP_FMOD 8

/* Reductions. */
#define ROP_SUM 0
#define ROP_MEAN 1
#define ROP_MAX 2
#define ROP_MIN 3
#define ROP_PROD 4
#define ROP_L1 5
#define ROP_L2 6
#define ROP_LOGSUM 7
#define ROP_LOGSUMEXP 8
#define ROP_SUMSQUARE 9

/* Softmax family. */
#define SOFTMAX 0
#define LOGSOFTMAX 1
#define HARDMAX 2

/* Pooling. */
#define POOL_MAX 0
#define POOL_AVG_INCLUDE_PAD 1
#define POOL_AVG_EXCLUDE_PAD 2

/* Pad modes. */
#define PAD_CONSTANT 0
#define PAD_REFLECT 1
#define PAD_EDGE 2
#define PAD_WRAP 3

/* Resize. */
#define RESIZE_NEAREST 0
#define RESIZE_LINEAR 1
#define RESIZE_CUBIC 2
#define COORD_HALF_PIXEL 0
#define COORD_ASYMMETRIC 1
#define COORD_PYTORCH_HALF_PIXEL 2
#define COORD_ALIGN_CORNERS 3
#define COORD_TF_HALF_PIXEL_FOR_NEAREST 4
#define COORD_HALF_PIXEL_SYMMETRIC 5
#define NEAREST_ROUND_PREFER_FLOOR 0
#define NEAREST_ROUND_PREFER_CEIL 1
#define NEAREST_FLOOR 2
#define NEAREST_CEIL 3

#endif
