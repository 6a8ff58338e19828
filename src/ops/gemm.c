/* SPDX-License-Identifier: Apache-2.0
 * Placeholder: ops of this family are being written. */
#include "internal.h"

const MaceOpDef mace_ops_gemm[] = {
  { NULL, NULL, NULL, NULL, 0, NULL },
};
