/* SPDX-License-Identifier: Apache-2.0
 * SGEMM core (every kernel, odd shapes, transposes, epilogue), Gemm and
 * MatMul against naive loops, with 1 and 2 threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "harness.h"

static float *
rand_buf (int64_t n)
{
  float *p = malloc (sizeof (float) * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++)
    p[i] = th_uniform (-1, 1);
  return p;
}

static void
test_core (int threads)
{
  static const int64_t sizes[]
      = { 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 97 };
  int ns = sizeof sizes / sizeof sizes[0];
  MaceThreadPool *pool = threads > 1 ? mace_threadpool_new (threads) : NULL;
  for (int it = 0; it < 120; it++) {
    int64_t M = sizes[th_rand_u32 () % ns], N = sizes[th_rand_u32 () % ns];
    int64_t K = sizes[th_rand_u32 () % ns];
    if (it % 20 == 0) {
      M = 67 + th_rand_u32 () % 64;
      N = 300 + th_rand_u32 () % 300;
      K = 100 + th_rand_u32 () % 200;
    }
    bool ta = th_rand_u32 () & 1, tb = th_rand_u32 () & 1;
    float alpha = (it % 3 == 0) ? 1.0f : th_uniform (-2, 2);
    float beta = (it % 4 == 0)   ? 0.0f
                 : (it % 4 == 1) ? 1.0f
                                 : th_uniform (-2, 2);
    int64_t lda = (ta ? M : K) + (it % 2), ldb = (tb ? K : N) + (it % 3);
    int64_t ldc = N + (it % 5);
    float *A = rand_buf ((ta ? K : M) * lda),
          *B = rand_buf ((tb ? N : K) * ldb);
    float *C = rand_buf (M * ldc), *bias = rand_buf (M),
          *res = rand_buf (M * N);
    double *ref = malloc (sizeof (double) * (size_t)(M * N));
    MaceEpilogue ep = { .bias = (it & 4) ? bias : NULL,
                        .res = (it & 8) ? res : NULL,
                        .ldr = N,
                        .act = (MaceActivation)(it % 6),
                        .act_alpha = -0.3f,
                        .act_beta = 0.4f };
    if (ep.act == MACE_ACT_LEAKYRELU)
      ep.act_alpha = 0.1f;
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double s = 0;
        for (int64_t k = 0; k < K; k++)
          s += (double)(ta ? A[k * lda + i] : A[i * lda + k])
               * (tb ? B[j * ldb + k] : B[k * ldb + j]);
        double v = alpha * s + (beta != 0.0f ? beta * C[i * ldc + j] : 0.0);
        if (ep.bias)
          v += bias[i];
        if (ep.res)
          v += res[i * N + j];
        switch (ep.act) {
          case MACE_ACT_RELU: v = v > 0 ? v : 0; break;
          case MACE_ACT_CLIP: v = v < -0.3 ? -0.3 : v > 0.4 ? 0.4 : v; break;
          case MACE_ACT_LEAKYRELU: v = v < 0 ? v * 0.1 : v; break;
          case MACE_ACT_HARDSWISH:
            v = v * fmin (fmax (v / 6 + 0.5, 0), 1);
            break;
          case MACE_ACT_SIGMOID: v = 1 / (1 + exp (-v)); break;
          default: break;
        }
        ref[i * N + j] = v;
      }
    /* Half the time, through pre-packed operands. */
    float *pa = NULL, *pb = NULL;
    if (it & 1) {
      pa = malloc (sizeof (float) * (mace_gemm_packed_a_size (M, K) + 1));
      mace_gemm_pack_a (pa, A, lda, ta, M, K, alpha);
      pb = malloc (sizeof (float) * (mace_gemm_packed_b_size (K, N) + 1));
      mace_gemm_pack_b (pb, B, ldb, tb, K, N, 0,
                        (N + mace_gemm_nr () - 1) / mace_gemm_nr ());
    }
    mace_sgemm (pool, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, pa,
                pb, &ep);
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double g = C[i * ldc + j], w = ref[i * N + j];
        if (!(fabs (g - w) <= 1e-4 + 1e-4 * fabs (w))) {
          th_fail ("sgemm",
                   "%s t=%d M=%lld N=%lld K=%lld ta=%d tb=%d: C[%lld,%lld] = "
                   "%g, want %g",
                   mace_gemm_kernel_name (), threads, (long long)M,
                   (long long)N, (long long)K, ta, tb, (long long)i,
                   (long long)j, g, w);
          i = M;
          break;
        }
      }
    free (A);
    free (B);
    free (C);
    free (bias);
    free (res);
    free (ref);
    free (pa);
    free (pb);
  }
  mace_threadpool_free (pool);
}

static void
ref_gemm (const MaceTensor *a, const MaceTensor *b, const MaceTensor *c,
          bool ta, bool tb, float alpha, float beta, MaceTensor *y)
{
  int64_t M = y->dims[0], N = y->dims[1], K = a->dims[ta ? 0 : 1];
  const float *A = a->data, *B = b->data;
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double s = 0;
      for (int64_t k = 0; k < K; k++)
        s += (double)(ta ? A[k * M + i] : A[i * K + k])
             * (tb ? B[j * K + k] : B[k * N + j]);
      s *= alpha;
      if (c) {
        int64_t cm = c->ndim >= 2 ? c->dims[c->ndim - 2] : 1;
        int64_t cn = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
        s += beta
             * ((float *)c->data)[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
      }
      ((float *)y->data)[i * N + j] = (float)s;
    }
}

static void
test_gemm_op (int threads)
{
  for (int it = 0; it < 24; it++) {
    int64_t M = 1 + th_rand_u32 () % 40, N = 1 + th_rand_u32 () % 70;
    int64_t K = 1 + th_rand_u32 () % 50;
    bool ta = it & 1, tb = it & 2;
    float alpha = th_uniform (0.5, 2), beta = th_uniform (0.5, 2);
    MaceTensor *a
        = ta ? th_tensor (1, TH_DIMS (K, M)) : th_tensor (1, TH_DIMS (M, K));
    MaceTensor *b
        = tb ? th_tensor (1, TH_DIMS (N, K)) : th_tensor (1, TH_DIMS (K, N));
    MaceTensor *c = NULL;
    switch ((it / 4) % 5) {
      case 0: c = th_tensor (1, TH_DIMS (M, N)); break;
      case 1: c = th_tensor (1, TH_DIMS (N)); break;
      case 2: c = th_tensor (1, TH_DIMS (M, 1)); break;
      case 3: c = th_tensor (1, 0, NULL); break;
      default: break;
    }
    th_fill_uniform (a, -1, 1);
    th_fill_uniform (b, -1, 1);
    if (c)
      th_fill_uniform (c, -1, 1);
    ThNode *n = th_node_new ("Gemm", c ? 3 : 2, 1);
    th_attr_int (n, "transA", ta);
    th_attr_int (n, "transB", tb);
    th_attr_float (n, "alpha", alpha);
    th_attr_float (n, "beta", beta);
    /* Odd iterations: B is a constant (packed in prepare). */
    if (it & 4) {
      mace_graph_value (n->graph, "a", true);
      int vb = mace_graph_value (n->graph, "b", true);
      n->graph->values[vb].is_const = true;
    }
    MaceTensor *in[3] = { a, b, c }, *out[1];
    MaceTensor *want = th_tensor (1, TH_DIMS (M, N));
    ref_gemm (a, b, c, ta, tb, alpha, beta, want);
    if (th_run_op (n, 13, in, out, threads) != MACE_OK)
      th_fail ("Gemm", "run failed");
    else
      th_check_close ("Gemm", out[0], want, 1e-4, 1e-5);
    mace_tensor_free (out[0]);
    mace_tensor_free (want);
    mace_tensor_free (a);
    mace_tensor_free (b);
    mace_tensor_free (c);
    th_node_free (n);
  }
}

static void
test_matmul_op (int threads)
{
  struct {
    int na;
    int64_t a[4];
    int nb;
    int64_t b[4];
  } cases[] = {
    { 2, { 3, 4 }, 2, { 4, 5 } },
    { 1, { 4 }, 2, { 4, 5 } },
    { 2, { 3, 4 }, 1, { 4 } },
    { 1, { 7 }, 1, { 7 } },
    { 3, { 2, 3, 4 }, 2, { 4, 5 } },
    { 3, { 2, 33, 17 }, 3, { 2, 17, 40 } },
    { 4, { 2, 1, 3, 4 }, 3, { 5, 4, 6 } },
    { 2, { 3, 4 }, 3, { 2, 4, 5 } },
    { 1, { 4 }, 3, { 2, 4, 5 } },
    { 3, { 1, 70, 90 }, 2, { 90, 65 } },
  };
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    MaceTensor *a = th_tensor (1, cases[ci].na, cases[ci].a);
    MaceTensor *b = th_tensor (1, cases[ci].nb, cases[ci].b);
    th_fill_uniform (a, -1, 1);
    th_fill_uniform (b, -1, 1);
    ThNode *n = th_node_new ("MatMul", 2, 1);
    if (ci & 1) {
      mace_graph_value (n->graph, "a", true);
      int vb = mace_graph_value (n->graph, "b", true);
      n->graph->values[vb].is_const = true;
    }
    MaceTensor *in[2] = { a, b }, *out[1];
    if (th_run_op (n, 13, in, out, threads) != MACE_OK) {
      th_fail ("MatMul", "case %zu: run failed", ci);
      goto next;
    }
    /* Reference: numpy semantics, via promoted 4-D shapes. */
    int64_t K = a->dims[a->ndim - 1];
    int64_t M = a->ndim >= 2 ? a->dims[a->ndim - 2] : 1;
    int64_t N = b->ndim >= 2 ? b->dims[b->ndim - 1] : 1;
    int64_t ab[2] = { 1, 1 }, bb[2] = { 1, 1 };
    for (int d = 0; d < a->ndim - 2; d++)
      ab[2 - (a->ndim - 2) + d] = a->dims[d];
    for (int d = 0; d < b->ndim - 2; d++)
      bb[2 - (b->ndim - 2) + d] = b->dims[d];
    int64_t ob[2]
        = { ab[0] > bb[0] ? ab[0] : bb[0], ab[1] > bb[1] ? ab[1] : bb[1] };
    int64_t nel = ob[0] * ob[1] * M * N;
    if (mace_tensor_numel (out[0]) != nel) {
      th_fail ("MatMul", "case %zu: %lld elements, want %lld", ci,
               (long long)mace_tensor_numel (out[0]), (long long)nel);
      goto next;
    }
    for (int64_t p = 0; p < ob[0]; p++)
      for (int64_t q = 0; q < ob[1]; q++) {
        const float *A
            = (float *)a->data
              + ((ab[0] == 1 ? 0 : p) * ab[1] + (ab[1] == 1 ? 0 : q)) * M * K;
        const float *B
            = (float *)b->data
              + ((bb[0] == 1 ? 0 : p) * bb[1] + (bb[1] == 1 ? 0 : q)) * K * N;
        const float *Y = (float *)out[0]->data + (p * ob[1] + q) * M * N;
        for (int64_t i = 0; i < M; i++)
          for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
              s += (double)A[i * K + k] * B[k * N + j];
            if (fabs (Y[i * N + j] - s) > 1e-5 + 1e-4 * fabs (s)) {
              th_fail ("MatMul", "case %zu t=%d: got %g want %g", ci, threads,
                       Y[i * N + j], s);
              goto next;
            }
          }
      }
  next:
    mace_tensor_free (out[0]);
    mace_tensor_free (a);
    mace_tensor_free (b);
    th_node_free (n);
  }
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  for (int k = 3; k >= 1; k--) {
    if (mace_gemm_set_kernel (k) != k)
      continue;
    printf ("kernel %s\n", mace_gemm_kernel_name ());
    test_core (1);
    test_core (2);
    test_core (3);
  }
  mace_gemm_set_kernel (0);
  for (int t = 1; t <= 2; t++) {
    test_gemm_op (t);
    test_matmul_op (t);
  }
  return th_finish ();
}
