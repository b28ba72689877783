/* registry.c - the built-in agent kinds, by name, and the resumable
 * functions they call (which a snapshot names). */
#include "registry.h"
#include "models.h"

#include <stddef.h>

const sw_kind *const sw_agents_kinds[] = {
    &sw_kind_sheep, &sw_kind_wolf,    &sw_kind_grass,  &sw_kind_tree,
    &sw_kind_resident, &sw_kind_boid, &sw_kind_person, &sw_kind_villager,
    &sw_kind_market, &sw_kind_tavern, NULL};

const sw_func *const sw_agents_funcs[] = {&sw_func_walk_to, NULL};
