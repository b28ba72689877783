/* cmd_kinds.c - `swarmlet kinds [KIND...]`: the agent kinds a scenario may
 * name, with their parameters (type, default, description) and, with
 * --fields, their internal state too. Everything shown comes from the kinds'
 * field schemas, so it cannot drift from the code. */
#include "cli.h"
#include "probe_kinds.h"

#include <stdio.h>
#include <string.h>

static const char *place_name(sw_place p) {
    switch (p) {
    case SW_PLACE_NONE: return "none";
    case SW_PLACE_CELL: return "cell";
    case SW_PLACE_CELL_UNIQUE: return "cell_unique";
    case SW_PLACE_EVERY_CELL: return "every_cell";
    case SW_PLACE_POINT: return "point";
    }
    return "?";
}

static void show(const sw_kind *k, bool fields) {
    printf("%s - %s\n", k->name, k->doc ? k->doc : "(no description)");
    printf("  default placement: %s\n", place_name(k->place));
    int nparams = 0;
    for (const sw_field *f = k->fields; f && f->name; f++) nparams += f->param;
    if (nparams == 0) printf("  parameters: none\n");
    else printf("  parameters:\n");
    for (const sw_field *f = k->fields; f && f->name; f++)
        if (f->param) {
            char def[32];
            if (f->type == SW_T_BOOL) snprintf(def, sizeof def, "%s", f->def != 0 ? "true" : "false");
            else snprintf(def, sizeof def, "%.10g", f->def);
            printf("    %-18s %-5s default %-10s %s\n", f->name, sw_type_name(f->type), def, f->doc ? f->doc : "");
        }
    if (fields) {
        printf("  state:\n");
        for (const sw_field *f = k->fields; f && f->name; f++)
            if (!f->param) printf("    %-18s %s\n", f->name, sw_type_name(f->type));
    }
}

int sw_cmd_kinds(int argc, char **argv) {
    bool fields = false;
    const sw_kind *const *all = sw_cli_kinds();
    int named = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: swarmlet kinds [--fields] [KIND...]\n\n"
                   "List the agent kinds a scenario can name in \"agents\", with each kind's parameters\n"
                   "(the keys of an agent entry's \"params\": type, default, meaning) and its default\n"
                   "placement. Name kinds to show only those.\n\n"
                   "  --fields    also list each kind's internal state (what \"stats\" can read)\n");
            return 0;
        }
        if (strcmp(argv[i], "--fields") == 0) {
            fields = true;
            continue;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "swarmlet kinds: unknown option \"%s\" (options: --fields, --help)\n", argv[i]);
            return 2;
        }
        named++;
        bool found = false;
        for (size_t k = 0; all[k] && !found; k++) found = strcmp(all[k]->name, argv[i]) == 0;
        if (!found) {
            fprintf(stderr, "swarmlet kinds: unknown agent kind \"%s\" (known:", argv[i]);
            for (size_t k = 0; all[k]; k++) fprintf(stderr, "%s %s", k ? "," : "", all[k]->name);
            fprintf(stderr, ")\n");
            return 2;
        }
    }
    bool first = true;
    for (size_t k = 0; all[k]; k++) {
        bool want = named == 0;
        for (int i = 1; i < argc && !want; i++) want = strcmp(argv[i], all[k]->name) == 0;
        if (!want) continue;
        if (!first) printf("\n");
        first = false;
        show(all[k], fields);
    }
    return 0;
}
