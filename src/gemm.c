/* SPDX-License-Identifier: Apache-2.0
 * Blocked SGEMM: packed panels of A (MR rows) and B (NR columns), a
 * register-blocked micro-kernel per instruction set, selected once at run
 * time, and an epilogue applied to each row block while it is in cache. */
#pragma GCC optimize("O3", "fp-contract=fast")

#include "gemm.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define MACE_X86 1
#define MACE_CLONES                                                            \
  __attribute__ ((                                                             \
      target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MACE_CLONES
#endif

typedef void (*KernFunc) (int64_t K, const float *a, const float *b, float *c,
                          int64_t ldc, int mr, int nr, bool acc);

/* ---- Portable kernel: 4 x 16 --------------------------------------- */

#define GEN_MR 4
#define GEN_NR 16

static void
kern_generic (int64_t K, const float *a, const float *b, float *c, int64_t ldc,
              int mr, int nr, bool acc)
{
  float t[GEN_MR][GEN_NR];
  memset (t, 0, sizeof t);
  for (int64_t k = 0; k < K; k++) {
    for (int i = 0; i < GEN_MR; i++) {
      float ai = a[i];
      for (int j = 0; j < GEN_NR; j++)
        t[i][j] += ai * b[j];
    }
    a += GEN_MR;
    b += GEN_NR;
  }
  for (int i = 0; i < mr; i++) {
    float *ci = c + i * ldc;
    if (acc)
      for (int j = 0; j < nr; j++)
        ci[j] += t[i][j];
    else
      for (int j = 0; j < nr; j++)
        ci[j] = t[i][j];
  }
}

#ifdef MACE_X86

/* ---- AVX2 + FMA kernel: 6 x 16 ------------------------------------- */

#define AVX2_MR 6
#define AVX2_NR 16

__attribute__ ((target ("avx2,fma"))) static void
kern_avx2 (int64_t K, const float *a, const float *b, float *c, int64_t ldc,
           int mr, int nr, bool acc)
{
  __m256 c0[AVX2_MR], c1[AVX2_MR];
#pragma GCC unroll 8
  for (int i = 0; i < AVX2_MR; i++)
    c0[i] = c1[i] = _mm256_setzero_ps ();
  for (int64_t k = 0; k < K; k++) {
    __m256 b0 = _mm256_loadu_ps (b), b1 = _mm256_loadu_ps (b + 8);
#pragma GCC unroll 8
    for (int i = 0; i < AVX2_MR; i++) {
      __m256 ai = _mm256_broadcast_ss (a + i);
      c0[i] = _mm256_fmadd_ps (ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps (ai, b1, c1[i]);
    }
    a += AVX2_MR;
    b += AVX2_NR;
  }
  if (mr == AVX2_MR && nr == AVX2_NR) {
#pragma GCC unroll 8
    for (int i = 0; i < AVX2_MR; i++) {
      float *ci = c + i * ldc;
      if (acc) {
        c0[i] = _mm256_add_ps (c0[i], _mm256_loadu_ps (ci));
        c1[i] = _mm256_add_ps (c1[i], _mm256_loadu_ps (ci + 8));
      }
      _mm256_storeu_ps (ci, c0[i]);
      _mm256_storeu_ps (ci + 8, c1[i]);
    }
    return;
  }
  float t[AVX2_MR][AVX2_NR];
#pragma GCC unroll 8
  for (int i = 0; i < AVX2_MR; i++) {
    _mm256_storeu_ps (t[i], c0[i]);
    _mm256_storeu_ps (t[i] + 8, c1[i]);
  }
  for (int i = 0; i < mr; i++) {
    float *ci = c + i * ldc;
    if (acc)
      for (int j = 0; j < nr; j++)
        ci[j] += t[i][j];
    else
      for (int j = 0; j < nr; j++)
        ci[j] = t[i][j];
  }
}

/* ---- AVX-512 kernel: 8 x 32 ---------------------------------------- */

#define A512_MR 8
#define A512_NR 32

/* B rows are bs floats apart: NR for packed panels, or the row stride of
 * an unpacked B (masked loads keep a partial tile inside its rows).  The
 * epilogue (bias, residual, ReLU/Clip/LeakyReLU) is applied in registers;
 * returns false when the caller still has to apply ep. */
__attribute__ ((target ("avx512f"))) static bool
kern_avx512_ep (int64_t K, const float *a, const float *b, int64_t bs,
                const int64_t *boff, float *c, int64_t ldc, int mr, int nr,
                bool acc, const MaceEpilogue *ep)
{
  __m512 c0[A512_MR], c1[A512_MR];
  __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
  __mmask16 m1 = nr >= 32  ? 0xFFFF
                 : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1)
                           : 0;
#pragma GCC unroll 8
  for (int i = 0; i < A512_MR; i++)
    c0[i] = c1[i] = _mm512_setzero_ps ();
  if (boff) {
    /* Indirect: row k of B starts at b + boff[k]. */
    for (int64_t k = 0; k < K; k++) {
      const float *bk = b + boff[k];
      __m512 b0 = _mm512_maskz_loadu_ps (m0, bk);
      __m512 b1 = _mm512_maskz_loadu_ps (m1, bk + 16);
#pragma GCC unroll 8
      for (int i = 0; i < A512_MR; i++) {
        __m512 ai = _mm512_set1_ps (a[i]);
        c0[i] = _mm512_fmadd_ps (ai, b0, c0[i]);
        c1[i] = _mm512_fmadd_ps (ai, b1, c1[i]);
      }
      a += A512_MR;
    }
  } else if (nr == A512_NR || bs == A512_NR) {
#pragma GCC unroll 2
    for (int64_t k = 0; k < K; k++) {
      __m512 b0 = _mm512_loadu_ps (b), b1 = _mm512_loadu_ps (b + 16);
#pragma GCC unroll 8
      for (int i = 0; i < A512_MR; i++) {
        __m512 ai = _mm512_set1_ps (a[i]);
        c0[i] = _mm512_fmadd_ps (ai, b0, c0[i]);
        c1[i] = _mm512_fmadd_ps (ai, b1, c1[i]);
      }
      a += A512_MR;
      b += bs;
    }
  } else {
    for (int64_t k = 0; k < K; k++) {
      __m512 b0 = _mm512_maskz_loadu_ps (m0, b);
      __m512 b1 = _mm512_maskz_loadu_ps (m1, b + 16);
#pragma GCC unroll 8
      for (int i = 0; i < A512_MR; i++) {
        __m512 ai = _mm512_set1_ps (a[i]);
        c0[i] = _mm512_fmadd_ps (ai, b0, c0[i]);
        c1[i] = _mm512_fmadd_ps (ai, b1, c1[i]);
      }
      a += A512_MR;
      b += bs;
    }
  }
  MaceActivation act = ep ? ep->act : MACE_ACT_NONE;
  bool fused = act == MACE_ACT_NONE || act == MACE_ACT_RELU
               || act == MACE_ACT_CLIP || act == MACE_ACT_LEAKYRELU;
  const float *bias = ep && fused ? ep->bias : NULL;
  const float *res = ep && fused ? ep->res : NULL;
  __m512 lo = _mm512_set1_ps (act == MACE_ACT_CLIP ? ep->act_alpha : 0.0f);
  __m512 hi = _mm512_set1_ps (act == MACE_ACT_CLIP ? ep->act_beta : 0.0f);
  __m512 slope
      = _mm512_set1_ps (act == MACE_ACT_LEAKYRELU ? ep->act_alpha : 0.0f);
#pragma GCC unroll 8
  for (int i = 0; i < A512_MR; i++) {
    if (i >= mr)
      break;
    float *ci = c + i * ldc;
    __m512 v0 = c0[i], v1 = c1[i];
    if (acc) {
      v0 = _mm512_add_ps (v0, _mm512_maskz_loadu_ps (m0, ci));
      v1 = _mm512_add_ps (v1, _mm512_maskz_loadu_ps (m1, ci + 16));
    }
    if (fused) {
      if (bias) {
        __m512 bv = _mm512_set1_ps (bias[i]);
        v0 = _mm512_add_ps (v0, bv);
        v1 = _mm512_add_ps (v1, bv);
      }
      if (res) {
        const float *ri = res + i * ep->ldr;
        v0 = _mm512_add_ps (v0, _mm512_maskz_loadu_ps (m0, ri));
        v1 = _mm512_add_ps (v1, _mm512_maskz_loadu_ps (m1, ri + 16));
      }
      if (act == MACE_ACT_RELU) {
        v0 = _mm512_max_ps (v0, _mm512_setzero_ps ());
        v1 = _mm512_max_ps (v1, _mm512_setzero_ps ());
      } else if (act == MACE_ACT_CLIP) {
        v0 = _mm512_min_ps (_mm512_max_ps (v0, lo), hi);
        v1 = _mm512_min_ps (_mm512_max_ps (v1, lo), hi);
      } else if (act == MACE_ACT_LEAKYRELU) {
        __mmask16 n0
            = _mm512_cmp_ps_mask (v0, _mm512_setzero_ps (), _CMP_LT_OQ);
        __mmask16 n1
            = _mm512_cmp_ps_mask (v1, _mm512_setzero_ps (), _CMP_LT_OQ);
        v0 = _mm512_mask_mul_ps (v0, n0, v0, slope);
        v1 = _mm512_mask_mul_ps (v1, n1, v1, slope);
      }
    }
    _mm512_mask_storeu_ps (ci, m0, v0);
    _mm512_mask_storeu_ps (ci + 16, m1, v1);
  }
  return fused;
}

static void
kern_avx512 (int64_t K, const float *a, const float *b, float *c, int64_t ldc,
             int mr, int nr, bool acc)
{
  kern_avx512_ep (K, a, b, A512_NR, NULL, c, ldc, mr, nr, acc, NULL);
}

#endif /* MACE_X86 */

/* ---- Selection ------------------------------------------------------ */

typedef struct {
  int mr, nr;
  KernFunc fn;
  const char *name;
} Kernel;

static const Kernel kernels[] = {
  { 0, 0, NULL, NULL },
  { GEN_MR, GEN_NR, kern_generic, "generic" },
#ifdef MACE_X86
  { AVX2_MR, AVX2_NR, kern_avx2, "avx2" },
  { A512_MR, A512_NR, kern_avx512, "avx512" },
#endif
};

static const Kernel *cur;

static int
best_kernel (void)
{
#ifdef MACE_X86
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f"))
    return 3;
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return 2;
#endif
  return 1;
}

static inline const Kernel *
kernel (void)
{
  /* A benign race: every thread computes the same answer. */
  const Kernel *k = __atomic_load_n (&cur, __ATOMIC_ACQUIRE);
  if (!k) {
    k = &kernels[best_kernel ()];
    __atomic_store_n (&cur, k, __ATOMIC_RELEASE);
  }
  return k;
}

int
mace_gemm_set_kernel (int which)
{
  int best = best_kernel ();
  if (which <= 0 || which > best)
    which = best;
  __atomic_store_n (&cur, &kernels[which], __ATOMIC_RELEASE);
  return which;
}

const char *
mace_gemm_kernel_name (void)
{
  return kernel ()->name;
}

int
mace_gemm_mr (void)
{
  return kernel ()->mr;
}

int
mace_gemm_nr (void)
{
  return kernel ()->nr;
}

/* ---- Packing -------------------------------------------------------- */

size_t
mace_gemm_packed_a_size (int64_t M, int64_t K)
{
  int64_t mr = kernel ()->mr;
  return (size_t)(((M + mr - 1) / mr) * mr * K);
}

size_t
mace_gemm_packed_b_size (int64_t K, int64_t N)
{
  int64_t nr = kernel ()->nr;
  return (size_t)(((N + nr - 1) / nr) * nr * K);
}

void
mace_gemm_pack_a (float *dst, const float *A, int64_t lda, bool trans,
                  int64_t M, int64_t K, float alpha)
{
  int64_t mr = kernel ()->mr;
  for (int64_t i0 = 0; i0 < M; i0 += mr) {
    int64_t rows = M - i0 < mr ? M - i0 : mr;
    for (int64_t k = 0; k < K; k++) {
      for (int64_t i = 0; i < rows; i++)
        dst[i] = alpha * (trans ? A[k * lda + i0 + i] : A[(i0 + i) * lda + k]);
      for (int64_t i = rows; i < mr; i++)
        dst[i] = 0.0f;
      dst += mr;
    }
  }
}

void
mace_gemm_pack_b (float *dst, const float *B, int64_t ldb, bool trans,
                  int64_t K, int64_t N, int64_t p0, int64_t p1)
{
  int64_t nr = kernel ()->nr;
  dst += p0 * nr * K;
  for (int64_t p = p0; p < p1; p++) {
    int64_t j0 = p * nr;
    int64_t cols = N - j0 < nr ? N - j0 : nr;
    if (!trans) {
      for (int64_t k = 0; k < K; k++) {
        memcpy (dst, B + k * ldb + j0, sizeof (float) * (size_t)cols);
        for (int64_t j = cols; j < nr; j++)
          dst[j] = 0.0f;
        dst += nr;
      }
    } else {
      for (int64_t k = 0; k < K; k++) {
        for (int64_t j = 0; j < cols; j++)
          dst[j] = B[(j0 + j) * ldb + k];
        for (int64_t j = cols; j < nr; j++)
          dst[j] = 0.0f;
        dst += nr;
      }
    }
  }
}

/* ---- Epilogue ------------------------------------------------------- */

MACE_CLONES static void
epilogue_row (float *restrict c, int64_t n, float bias, const float *restrict r,
              MaceActivation act, float al, float be)
{
  if (r)
    for (int64_t j = 0; j < n; j++)
      c[j] += bias + r[j];
  else if (bias != 0.0f)
    for (int64_t j = 0; j < n; j++)
      c[j] += bias;
  switch (act) {
    case MACE_ACT_NONE: break;
    case MACE_ACT_RELU:
      for (int64_t j = 0; j < n; j++)
        c[j] = c[j] > 0.0f ? c[j] : 0.0f;
      break;
    case MACE_ACT_CLIP:
      for (int64_t j = 0; j < n; j++) {
        float v = c[j] < al ? al : c[j];
        c[j] = v > be ? be : v;
      }
      break;
    case MACE_ACT_LEAKYRELU:
      for (int64_t j = 0; j < n; j++)
        c[j] = c[j] < 0.0f ? c[j] * al : c[j];
      break;
    case MACE_ACT_HARDSWISH:
      for (int64_t j = 0; j < n; j++) {
        float v = c[j] * (1.0f / 6.0f) + 0.5f;
        v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        c[j] *= v;
      }
      break;
    case MACE_ACT_SIGMOID:
      for (int64_t j = 0; j < n; j++)
        c[j] = 1.0f / (1.0f + expf (-c[j]));
      break;
  }
}

void
mace_epilogue_apply (float *C, int64_t ldc, int64_t rows, int64_t cols,
                     const MaceEpilogue *ep)
{
  if (!ep || (!ep->bias && !ep->res && ep->act == MACE_ACT_NONE))
    return;
  for (int64_t i = 0; i < rows; i++)
    epilogue_row (C + i * ldc, cols, ep->bias ? ep->bias[i] : 0.0f,
                  ep->res ? ep->res + i * ep->ldr : NULL, ep->act,
                  ep->act_alpha, ep->act_beta);
}

/* ---- Drivers -------------------------------------------------------- */

/* The epilogue for rows [i0, i0 + rows) and columns from j0. */
static inline const MaceEpilogue *
ep_at (const MaceEpilogue *ep, MaceEpilogue *tmp, int64_t i0, int64_t j0)
{
  if (!ep)
    return NULL;
  *tmp = *ep;
  if (tmp->bias)
    tmp->bias += i0;
  if (tmp->res)
    tmp->res += i0 * tmp->ldr + j0;
  return tmp;
}

/* Shared by the packed and the direct-B drivers: bs = NR for packed B
 * (panel p at b + p * NR * K), or ldb for B read in place. */
static void
gemm_blocks (int64_t M, int64_t N, int64_t K, const float *pa, const float *b,
             int64_t bs, float *C, int64_t ldc, bool accumulate,
             const MaceEpilogue *ep)
{
  const Kernel *kn = kernel ();
  int64_t mr = kn->mr, nr = kn->nr;
  bool use_ep = ep && (ep->bias || ep->res || ep->act != MACE_ACT_NONE);
  for (int64_t i0 = 0; i0 < M; i0 += mr) {
    int rows = (int)(M - i0 < mr ? M - i0 : mr);
    const float *a = pa + i0 * K;
    float *c = C + i0 * ldc;
    bool done = !use_ep;
#ifdef MACE_X86
    if (kn->fn == kern_avx512) {
      for (int64_t j0 = 0; j0 < N; j0 += nr) {
        int cols = (int)(N - j0 < nr ? N - j0 : nr);
        MaceEpilogue tmp;
        const float *bp = bs == nr ? b + j0 * K : b + j0;
        done = kern_avx512_ep (K, a, bp, bs, NULL, c + j0, ldc, rows, cols,
                               accumulate,
                               use_ep ? ep_at (ep, &tmp, i0, j0) : NULL)
               || !use_ep;
      }
    } else
#endif
      for (int64_t j0 = 0; j0 < N; j0 += nr) {
        int cols = (int)(N - j0 < nr ? N - j0 : nr);
        kn->fn (K, a, b + j0 * K, c + j0, ldc, rows, cols, accumulate);
      }
    if (!done) {
      MaceEpilogue tmp;
      mace_epilogue_apply (c, ldc, rows, N, ep_at (ep, &tmp, i0, 0));
    }
  }
}

void
mace_gemm_packed (int64_t M, int64_t N, int64_t K, const float *pa,
                  const float *pb, float *C, int64_t ldc, bool accumulate,
                  const MaceEpilogue *ep)
{
  gemm_blocks (M, N, K, pa, pb, kernel ()->nr, C, ldc, accumulate, ep);
}

bool
mace_gemm_direct_b (int64_t M, int64_t N, int64_t K, const float *pa,
                    const float *B, int64_t ldb, float *C, int64_t ldc,
                    const MaceEpilogue *ep)
{
#ifdef MACE_X86
  const Kernel *kn = kernel ();
  if (kn->fn == kern_avx512 && ldb != kn->nr) {
    gemm_blocks (M, N, K, pa, B, ldb, C, ldc, false, ep);
    return true;
  }
#endif
  (void)M;
  (void)N;
  (void)K;
  (void)pa;
  (void)B;
  (void)ldb;
  (void)C;
  (void)ldc;
  (void)ep;
  return false;
}

bool
mace_gemm_has_indirect (void)
{
#ifdef MACE_X86
  return kernel ()->fn == kern_avx512;
#else
  return false;
#endif
}

bool
mace_gemm_indirect_b (int64_t M, int64_t N, int64_t K, const float *pa,
                      const float *B, const int64_t *boff, float *C,
                      int64_t ldc, const MaceEpilogue *ep)
{
#ifdef MACE_X86
  const Kernel *kn = kernel ();
  if (kn->fn != kern_avx512)
    return false;
  int64_t mr = kn->mr, nr = kn->nr;
  bool use_ep = ep && (ep->bias || ep->res || ep->act != MACE_ACT_NONE);
  bool done = !use_ep;
  /* Column panels outer: each B panel is gathered from its rows once into
   * cache and used by every row block of A. */
  for (int64_t j0 = 0; j0 < N; j0 += nr) {
    int cols = (int)(N - j0 < nr ? N - j0 : nr);
    for (int64_t i0 = 0; i0 < M; i0 += mr) {
      int rows = (int)(M - i0 < mr ? M - i0 : mr);
      MaceEpilogue tmp;
      done = kern_avx512_ep (K, pa + i0 * K, B + j0, 0, boff, C + i0 * ldc + j0,
                             ldc, rows, cols, false,
                             use_ep ? ep_at (ep, &tmp, i0, j0) : NULL)
             || !use_ep;
    }
  }
  if (!done)
    mace_epilogue_apply (C, ldc, M, N, ep);
  return true;
#else
  (void)M;
  (void)N;
  (void)K;
  (void)pa;
  (void)B;
  (void)boff;
  (void)C;
  (void)ldc;
  (void)ep;
  return false;
#endif
}

typedef struct {
  int64_t M, N, K, ldc, mt, nt, n_tn;
  const float *pa, *pb;
  float *C;
  bool acc;
  const MaceEpilogue *ep;
  /* Packing B in parallel. */
  const float *B;
  int64_t ldb;
  bool tb;
  float *pbuf;
} SgemmJob;

static void
sgemm_tiles (void *arg, int64_t b, int64_t e)
{
  SgemmJob *j = arg;
  for (int64_t t = b; t < e; t++) {
    int64_t m0 = (t / j->n_tn) * j->mt, n0 = (t % j->n_tn) * j->nt;
    int64_t m1 = m0 + j->mt < j->M ? m0 + j->mt : j->M;
    int64_t n1 = n0 + j->nt < j->N ? n0 + j->nt : j->N;
    MaceEpilogue e, *ep = NULL;
    if (j->ep) {
      e = *j->ep;
      if (e.bias)
        e.bias += m0;
      if (e.res)
        e.res += m0 * e.ldr + n0;
      ep = &e;
    }
    mace_gemm_packed (m1 - m0, n1 - n0, j->K, j->pa + m0 * j->K,
                      j->pb + n0 * j->K, j->C + m0 * j->ldc + n0, j->ldc,
                      j->acc, ep);
  }
}

static void
sgemm_pack_b (void *arg, int64_t b, int64_t e)
{
  SgemmJob *j = arg;
  mace_gemm_pack_b (j->pbuf, j->B, j->ldb, j->tb, j->K, j->N, b, e);
}

bool
mace_sgemm (MaceThreadPool *pool, bool trans_a, bool trans_b, int64_t M,
            int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
            const float *B, int64_t ldb, float beta, float *C, int64_t ldc,
            const float *packed_a, const float *packed_b,
            const MaceEpilogue *ep)
{
  if (M <= 0 || N <= 0)
    return true;
  const Kernel *kn = kernel ();
  int64_t mr = kn->mr, nr = kn->nr;
  float *pa_buf = NULL, *pb_buf = NULL;
  bool small = (double)M * N * K < 65536.0;
  if (small)
    pool = NULL;
  if (!packed_a) {
    pa_buf = malloc (sizeof (float) * (mace_gemm_packed_a_size (M, K) + 1));
    if (!pa_buf)
      return false;
    mace_gemm_pack_a (pa_buf, A, lda, trans_a, M, K, alpha);
    packed_a = pa_buf;
  }
  int64_t n_panels = (N + nr - 1) / nr;
  SgemmJob j = { .M = M,
                 .N = N,
                 .K = K,
                 .ldc = ldc,
                 .pa = packed_a,
                 .C = C,
                 .acc = beta != 0.0f,
                 .ep = ep,
                 .B = B,
                 .ldb = ldb,
                 .tb = trans_b };
  if (!packed_b) {
    pb_buf = malloc (sizeof (float) * (mace_gemm_packed_b_size (K, N) + 1));
    if (!pb_buf) {
      free (pa_buf);
      return false;
    }
    j.pbuf = pb_buf;
    mace_parallel_for (K * N > 16384 ? pool : NULL, n_panels, sgemm_pack_b, &j);
    packed_b = pb_buf;
  }
  j.pb = packed_b;
  if (beta != 0.0f && beta != 1.0f)
    for (int64_t i = 0; i < M; i++)
      for (int64_t c = 0; c < N; c++)
        C[i * ldc + c] *= beta;

  /* Tiles of about 64 x 256, smaller when that leaves threads idle. */
  int threads = mace_threadpool_size (pool);
  int64_t mt = ((64 + mr - 1) / mr) * mr, nt = ((256 + nr - 1) / nr) * nr;
  for (;;) {
    int64_t tiles = ((M + mt - 1) / mt) * ((N + nt - 1) / nt);
    if (tiles >= 3 * threads)
      break;
    if (nt > nr)
      nt = ((nt / 2 + nr - 1) / nr) * nr;
    else if (mt > mr)
      mt = ((mt / 2 + mr - 1) / mr) * mr;
    else
      break;
  }
  j.mt = mt;
  j.nt = nt;
  j.n_tn = (N + nt - 1) / nt;
  mace_parallel_for (pool, ((M + mt - 1) / mt) * j.n_tn, sgemm_tiles, &j);
  free (pa_buf);
  free (pb_buf);
  return true;
}

/* ---- Scratch -------------------------------------------------------- */

#define N_SLOTS 4

typedef struct {
  void *p[N_SLOTS];
  size_t size[N_SLOTS];
} Scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void
scratch_destroy (void *data)
{
  Scratch *s = data;
  for (int i = 0; i < N_SLOTS; i++)
    free (s->p[i]);
  free (s);
}

static void
scratch_init (void)
{
  pthread_key_create (&scratch_key, scratch_destroy);
}

void *
mace_scratch (int slot, size_t bytes)
{
  if (slot < 0 || slot >= N_SLOTS)
    return NULL;
  pthread_once (&scratch_once, scratch_init);
  Scratch *s = pthread_getspecific (scratch_key);
  if (!s) {
    s = calloc (1, sizeof *s);
    if (!s || pthread_setspecific (scratch_key, s) != 0) {
      free (s);
      return NULL;
    }
  }
  if (s->size[slot] < bytes) {
    void *p = NULL;
    size_t want = bytes + bytes / 4 + 64;
    if (posix_memalign (&p, 64, want) != 0)
      return NULL;
    free (s->p[slot]);
    s->p[slot] = p;
    s->size[slot] = want;
  }
  return s->p[slot];
}
