/* SPDX-License-Identifier: Apache-2.0
 * The op registry: every op table of src/ops/, looked up by op_type. */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "internal.h"

static const MaceOpDef *const tables[] = {
  mace_ops_elementwise, mace_ops_activation, mace_ops_reduce, mace_ops_shape,
  mace_ops_movement,    mace_ops_conv,       mace_ops_pool,   mace_ops_norm,
  mace_ops_gemm,        mace_ops_resize,
};

const MaceOpDef *
mace_op_lookup (const char *op_type)
{
  for (size_t t = 0; t < G_N_ELEMENTS (tables); t++)
    for (const MaceOpDef *d = tables[t]; d->op_type; d++)
      if (strcmp (d->op_type, op_type) == 0)
        return d;
  return NULL;
}

void
mace_op_foreach (void (*func) (const MaceOpDef *def, void *data), void *data)
{
  for (size_t t = 0; t < G_N_ELEMENTS (tables); t++)
    for (const MaceOpDef *d = tables[t]; d->op_type; d++)
      func (d, data);
}

MaceStatus
mace_op_fail (MaceOpCtx *ctx, MaceStatus status, const char *fmt, ...)
{
  char buf[768];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  mace_set_error (ctx->err, status, "%s: node '%s' (%s): %s",
                  ctx->graph && ctx->graph->path ? ctx->graph->path : "model",
                  ctx->node && ctx->node->name ? ctx->node->name : "?",
                  ctx->node ? ctx->node->op_type : "?", buf);
  return status;
}

MaceStatus
mace_infer_same_as_input0 (MaceOpCtx *ctx)
{
  if (ctx->n_in < 1 || !ctx->in[0])
    return mace_op_fail (ctx, MACE_ERROR_INVALID_MODEL, "missing input 0");
  for (int i = 0; i < ctx->n_out; i++)
    mace_tensor_init (ctx->out[i], ctx->in[0]->dtype, ctx->in[0]->ndim,
                      ctx->in[0]->dims);
  return MACE_OK;
}
