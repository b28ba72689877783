/* swarmlet.h - everything an agent or a front end may use. */
#ifndef SWARMLET_H
#define SWARMLET_H

#include "base.h"
#include "rng.h"
#include "tasklet.h"
#include "channel.h"
#include "sched.h"
#include "world.h"

#endif
