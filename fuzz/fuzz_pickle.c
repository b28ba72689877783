/* fuzz_pickle.c - libFuzzer target for the unpickler.
 *
 * The input is a one-buffer pickle (sw_pickle_save) of a 16x16 world with the
 * four named channels of the corpus scenarios. Its checksums are recomputed
 * first (sw__pk_reseal), so the fuzzer exercises the validation behind them
 * rather than the checksum. Whatever loads must pickle again, and describe
 * each agent, without any sanitizer report.
 *
 * It does not step what it loaded: that would run the models' code on frame
 * fields of any value (a grass tuft whose cell index is a billion), and a
 * frame's numbers are the agent's own data, checked for type and size by the
 * loader but not for meaning (docs/snapshots.md). Seeds: fuzz/corpus/pickle,
 * made by gen_pickle_corpus. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    sw__pk_reseal(copy, size);
    sw_world *w = sw_world_new(&(sw_world_desc){.width = 16, .height = 16, .seed = 1, .watchdog = 10000});
    sw_world_chan_declare(w, "dawn", &dawn);
    sw_world_chan_declare(w, "shelf", &shelf);
    sw_world_chan_declare(w, "seats", &seats);
    sw_world_chan_declare(w, "chat", &chat);
    sw_pickle_env env = {sw_agents_kinds, sw_agents_funcs};
    sw_pickle_section sec = sw_pickle_world_section(w);
    char err[512];
    sw_sched *s = sw_world_sched(w);
    if (sw_pickle_load(s, &env, &sec, 1, copy, size, err, sizeof err) == SW_OK) {
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
