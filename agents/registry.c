/* registry.c - the built-in agent kinds, by name. */
#include "registry.h"

#include <stddef.h>

const sw_kind *const sw_agents_kinds[] = {NULL};
