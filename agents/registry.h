/* registry.h - the built-in agent kinds that scenarios can name, and the
 * resumable functions those kinds call (a snapshot refers to them by name). */
#ifndef SW_AGENTS_REGISTRY_H
#define SW_AGENTS_REGISTRY_H

#include "swarmlet.h"

/* NULL-terminated. */
extern const sw_kind *const sw_agents_kinds[];
/* NULL-terminated: the sw_funcs the built-in kinds SW_CALL. */
extern const sw_func *const sw_agents_funcs[];

#endif
