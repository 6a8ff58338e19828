/* SPDX-License-Identifier: Apache-2.0
 * Local work sizes: tuned (timed candidates, kept in the tuning cache) or
 * chosen by a heuristic. */
#ifndef MACE_CL_TUNER_H
#define MACE_CL_TUNER_H

#include "cl/ops.h"

typedef struct MaceClTuner MaceClTuner;

/* path: tuning cache file (NULL = default location); tune: time candidates
 * now and store the best.  Never fails: without a cache, heuristics. */
MaceClTuner *mace_cl_tuner_new (MaceClDevice *dev, const char *path, int tune);
/* Sets l->lws for a launch whose arguments are all set. */
void mace_cl_tuner_choose (MaceClTuner *t, MaceClLaunch *l);
/* Writes the tuning cache if something was tuned. */
void mace_cl_tuner_flush (MaceClTuner *t);
void mace_cl_tuner_free (MaceClTuner *t);

#endif
