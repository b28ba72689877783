/* fuzz_pickle.c - libFuzzer target for the unpickler.
 *
 * The input is a one-buffer pickle (sw_pickle_save) of a 16x16 world with the
 * four named channels of the corpus scenarios. Its checksums are recomputed
 * first (sw__pk_reseal), so the fuzzer exercises the validation behind them
 * rather than the checksum. Whatever loads must pickle again, and describe
 * each agent, without any sanitizer report.
 *
 * It then steps what it loaded, but not with the models' code, which would
 * trust frame fields of any value (a grass tuft whose cell index is a
 * billion: a frame's numbers are the agent's own data, checked for type and
 * size by the loader but not for meaning, docs/snapshots.md). Each kind and
 * function is loaded as a stand-in with the same name, fields and resume
 * points whose code sleeps, yields, waits on, posts to or closes the channels
 * its fields name, kills the agents they name, returns or exits at random:
 * every queue, timer, slot and world index that was loaded gets used. Seeds:
 * fuzz/corpus/pickle, made by gen_pickle_corpus. */
#include "pickle_int.h"
#include "registry.h"
#include "world.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const sw_chan_desc dawn = {.kind = SW_CHAN_EVENT};
static const sw_chan_desc shelf = {.kind = SW_CHAN_BUFFERED, .capacity = 20};
static const sw_chan_desc seats = {.kind = SW_CHAN_BUFFERED, .capacity = 6};
static const sw_chan_desc chat = {.kind = SW_CHAN_RENDEZVOUS, .preference = -1};

/* ---- stand-ins for the built-in kinds and functions --------------------------- */

#define MAX_STANDINS 32
static sw_run_fn real_run[MAX_STANDINS];
static const sw_field *standin_fields[MAX_STANDINS];
static sw_kind standin_kind[MAX_STANDINS];
static sw_func standin_func[MAX_STANDINS];
static const sw_kind *standin_kinds[MAX_STANDINS + 1];
static const sw_func *standin_funcs[MAX_STANDINS + 1];

/* The first field of `type` in the frame, or NULL. */
static void *field_of(int i, void *frame, sw_type type, int nth) {
    for (const sw_field *f = standin_fields[i]; f && f->name; f++)
        if (f->type == type && nth-- == 0) return (char *)frame + f->offset;
    return NULL;
}

static sw_step standin(int i, sw_tasklet *t, void *frame) {
    if (sw__describing(t)) return real_run[i](t, NULL); /* the real resume points */
    sw_sched *s = sw_sched_of(t);
    sw_chan ch = 0;
    sw_id who = 0;
    void *cp = field_of(i, frame, SW_T_CHAN, 0), *ip = field_of(i, frame, SW_T_ID, 0);
    sw_msg *msg = field_of(i, frame, SW_T_MSG, 0);
    if (cp) memcpy(&ch, cp, sizeof ch);
    if (ip) memcpy(&who, ip, sizeof who);
    for (int n = 0; n < 4; n++) {
        switch (sw_rand_below(t, 12)) {
        case 0: return sw__exit(t);
        case 1: return sw__yield(t);
        case 2: if (msg) { sw_step r = sw__recv_at(t, sw__pc(t), ch, msg); if (r != SW_STEP_CONTINUE) return r; } break;
        case 3: if (msg) { sw_step r = sw__send_at(t, sw__pc(t), ch, msg); if (r != SW_STEP_CONTINUE) return r; } break;
        case 4: sw_chan_post(s, ch, &(sw_msg){.tag = 1}); break;
        case 5: if (sw_rand_below(t, 8) == 0) sw_chan_close(s, ch); break;
        case 6: sw_kill(t, who); break;
        case 7: sw_kill(t, sw_handle_make((uint32_t)sw_rand_below(t, 64), 1 + (uint32_t)sw_rand_below(t, 3))); break;
        case 8: return sw__return(t, (sw_value){.i = 1});
        default: return sw__sleep(t, 1 + sw_rand_below(t, 300));
        }
    }
    return sw__sleep(t, 1);
}

#define STANDIN(n) static sw_step standin_##n(sw_tasklet *t, void *frame) { return standin(n, t, frame); }
STANDIN(0) STANDIN(1) STANDIN(2) STANDIN(3) STANDIN(4) STANDIN(5) STANDIN(6) STANDIN(7)
STANDIN(8) STANDIN(9) STANDIN(10) STANDIN(11) STANDIN(12) STANDIN(13) STANDIN(14) STANDIN(15)
STANDIN(16) STANDIN(17) STANDIN(18) STANDIN(19) STANDIN(20) STANDIN(21) STANDIN(22) STANDIN(23)
STANDIN(24) STANDIN(25) STANDIN(26) STANDIN(27) STANDIN(28) STANDIN(29) STANDIN(30) STANDIN(31)
static const sw_run_fn standin_run[MAX_STANDINS] = {
    standin_0, standin_1, standin_2, standin_3, standin_4, standin_5, standin_6, standin_7,
    standin_8, standin_9, standin_10, standin_11, standin_12, standin_13, standin_14, standin_15,
    standin_16, standin_17, standin_18, standin_19, standin_20, standin_21, standin_22, standin_23,
    standin_24, standin_25, standin_26, standin_27, standin_28, standin_29, standin_30, standin_31};

static void make_standins(void) {
    if (standin_kinds[0]) return;
    int n = 0, nk = 0, nf = 0;
    for (int k = 0; sw_agents_kinds[k] && n < MAX_STANDINS; k++, n++) {
        standin_kind[nk] = *sw_agents_kinds[k];
        standin_kind[nk].init = NULL;
        standin_kind[nk].run = standin_run[n];
        real_run[n] = sw_agents_kinds[k]->run;
        standin_fields[n] = sw_agents_kinds[k]->fields;
        standin_kinds[nk] = &standin_kind[nk];
        nk++;
    }
    for (int f = 0; sw_agents_funcs[f] && n < MAX_STANDINS; f++, n++) {
        standin_func[nf] = *sw_agents_funcs[f];
        standin_func[nf].run = standin_run[n];
        real_run[n] = sw_agents_funcs[f]->run;
        standin_fields[n] = sw_agents_funcs[f]->fields;
        standin_funcs[nf] = &standin_func[nf];
        nf++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    make_standins();
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    sw__pk_reseal(copy, size);
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 16, .height = 16, .seed = 1, .watchdog = 10000});
    sw_world_chan_declare(w, "dawn", &dawn);
    sw_world_chan_declare(w, "shelf", &shelf);
    sw_world_chan_declare(w, "seats", &seats);
    sw_world_chan_declare(w, "chat", &chat);
    sw_pickle_env env = {standin_kinds, standin_funcs};
    sw_pickle_section sec = sw_pickle_world_section(w);
    char err[512];
    sw_sched *s = sw_world_sched(w);
    if (sw_pickle_load(s, &env, &sec, 1, copy, size, err, sizeof err) == SW_OK) {
        for (int i = 0; i < 5; i++) sw_world_step(w);
        sw_pickle_buf again = {0}, schema = {0}, rec = {0}, text = {0};
        sw_pickle_save(s, &sec, 1, &again, err, sizeof err);
        sw_pickle_save_schema(s, &schema);
        sw_pickle_schema *sc = sw_pickle_schema_parse(schema.data, schema.len, err, sizeof err);
        for (uint32_t slot = 0; sc && slot < sw_sched_slot_limit(s); slot++) {
            rec.len = 0;
            if (sw_pickle_save_agent(s, slot, &rec) == 1)
                sw_pickle_describe_agent(sc, rec.data, rec.len, slot & 1, &text, err, sizeof err);
        }
        sw_pickle_schema_free(sc);
        sw_pickle_buf_fini(&again);
        sw_pickle_buf_fini(&schema);
        sw_pickle_buf_fini(&rec);
        sw_pickle_buf_fini(&text);
    }
    sw_world_free(w);
    free(copy);
    return 0;
}
