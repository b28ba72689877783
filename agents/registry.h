/* registry.h - the built-in agent kinds that scenarios can name. */
#ifndef SW_AGENTS_REGISTRY_H
#define SW_AGENTS_REGISTRY_H

#include "swarmlet.h"

/* NULL-terminated. */
extern const sw_kind *const sw_agents_kinds[];

#endif
