/* cmd_demo.c - `swarmlet demo`: hens and a farmer, tasklets and channels.
 *
 * Hens sleep a few ticks, then each lays an egg by sending it on the basket,
 * a rendezvous channel: a hen stays blocked until the farmer takes her egg.
 * After `eggs` eggs the farmer closes the basket; every hen then sees
 * SW_E_CLOSED and goes home. The same code is the README's example. */
#include "cli.h"
#include "swarmlet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    sw_chan basket;
    int32_t laid;
    sw_msg egg;
} hen;

static sw_step hen_run(sw_tasklet *t, void *frame) {
    hen *f = frame;
    SW_BEGIN(t, brood, lay);
    for (;;) {
        SW_SLEEP(t, brood, 1 + sw_rand_below(t, 5));     /* a few ticks on the nest */
        f->egg = (sw_msg){.tag = 1, .who = sw_self(t), .i = ++f->laid};
        SW_SEND(t, lay, f->basket, &f->egg);              /* wait for the farmer */
        if (sw_status(t) == SW_E_CLOSED) break;           /* market's over */
    }
    SW_END(t);
}

static const sw_field hen_fields[] = {
    SW_FIELD(hen, basket, SW_T_CHAN), SW_FIELD(hen, laid, SW_T_I32), SW_FIELD(hen, egg, SW_T_MSG),
    SW_FIELD_END};
static const sw_kind hen_kind = {.name = "hen", .frame_size = sizeof(hen), .fields = hen_fields,
                                 .run = hen_run, .doc = "lays an egg every few ticks"};

typedef struct {
    sw_chan basket;
    int32_t wanted, got;
    sw_msg egg;
} farmer;

static sw_step farmer_run(sw_tasklet *t, void *frame) {
    farmer *f = frame;
    SW_BEGIN(t, collect);
    while (f->got < f->wanted) {
        SW_RECV(t, collect, f->basket, &f->egg);          /* sleep until a hen lays */
        f->got++;
        printf("tick %3llu  farmer took egg %d of hen #%u\n", (unsigned long long)sw_now(t),
               f->egg.i, sw_handle_slot(f->egg.who));
    }
    sw_chan_close(sw_sched_of(t), f->basket);
    SW_END(t);
}

static const sw_field farmer_fields[] = {
    SW_FIELD(farmer, basket, SW_T_CHAN), SW_PARAM(farmer, wanted, SW_T_I32, 12, "eggs to collect"),
    SW_FIELD(farmer, got, SW_T_I32), SW_FIELD(farmer, egg, SW_T_MSG), SW_FIELD_END};
static const sw_kind farmer_kind = {.name = "farmer", .frame_size = sizeof(farmer),
                                    .fields = farmer_fields, .run = farmer_run,
                                    .doc = "collects eggs, then closes the basket"};

int sw_cmd_demo(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: swarmlet demo\n\nHens lay eggs on a rendezvous channel until the farmer has "
               "enough and closes it.\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "swarmlet demo: unexpected argument \"%s\"\n", argv[1]);
        return 2;
    }
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 42});
    if (!s) return 1;
    sw_chan basket = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_RENDEZVOUS});
    for (int i = 0; i < 4; i++) sw_sched_spawn(s, &hen_kind, &(hen){.basket = basket}, 0);
    sw_sched_spawn(s, &farmer_kind, &(farmer){.basket = basket, .wanted = 12}, 0);
    int rc = SW_OK;
    while (sw_sched_count(s) > 0 && rc == SW_OK) rc = sw_sched_step(s);
    printf("tick %3llu  everyone went home (%s)\n", (unsigned long long)sw_sched_now(s),
           sw_status_name(rc));
    if (rc != SW_OK) fprintf(stderr, "%s", sw_sched_report(s));
    sw_sched_free(s);
    return rc == SW_OK ? 0 : 1;
}
