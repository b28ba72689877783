/* probe_kinds.h - the command line's own small agent kinds (see
 * probe_kinds.c), and the full list of kinds a scenario run by the command
 * line may name. */
#ifndef SW_PROBE_KINDS_H
#define SW_PROBE_KINDS_H

#include "registry.h"
#include "swarmlet.h"

extern const sw_kind sw_probe_walker, sw_probe_listener, sw_probe_waiter, sw_probe_spinner;
/* NULL-terminated. */
extern const sw_kind *const sw_probe_kinds[];

/* The built-in model kinds (sw_agents_kinds) followed by the probe kinds,
 * NULL-terminated; static storage. */
const sw_kind *const *sw_cli_kinds(void);

#endif
