/* village.c - the village: people with needs, sleeping until one is urgent.
 *
 * Each villager has three needs that grow steadily: hunger, tiredness (the
 * lack of energy) and loneliness (the social need). Rather than checking them
 * every tick, a villager works out when the first one will reach 1 and sleeps
 * exactly that long. Then it runs the errand for its most urgent need:
 *
 *   - hungry: walk to the market and queue for a loaf on the "shelf", a
 *     buffered channel the baker fills at every dawn (so when bread runs out,
 *     the hungry wait in the queue until the next dawn);
 *   - tired: walk home and sleep for `rest` ticks;
 *   - lonely: walk to the tavern and chat on "chat", a rendezvous channel:
 *     whoever arrives while somebody is already listening tells them the
 *     news, otherwise waits and listens for the next one; then takes one of
 *     the tavern's "seats" (a buffered channel of seat tokens, so at most
 *     that many sit at once), lingers over a drink and gives the seat back.
 *
 * Walking is a nested resumable call, walk_to(x, y), an sw_func with its own
 * frame that steps one cell per tick and returns the steps taken: the
 * villager's frame stays suspended beneath it, as Stackless keeps frames on
 * the heap. The baker (kind "market") sleeps on the "dawn" event channel,
 * which the scenario fires with scheduled events; the tavern lays its seats
 * out on "seats" and then just stands there. */
#include "models.h"
#include "model_util.h"

#include <math.h>
#include <stdlib.h>

enum { NEED_HUNGER, NEED_TIRED, NEED_LONELY };
enum { MSG_LOAF = 1, MSG_SEAT, MSG_NEWS, MSG_DAWN };

/* ---- walk_to(x, y): a resumable function that walks one cell per tick ---------- */

typedef struct {
    int32_t tx, ty; /* where to */
    int32_t steps;  /* taken so far */
} walk;

static sw_step walk_to_run(sw_tasklet *t, void *frame) {
    walk *f = frame;
    SW_BEGIN(t, stride);
    for (;;) {
        sw_world *w = sw_world_of(t);
        int32_t x, y;
        if (!sw_world_cell_of(w, sw_self(t), &x, &y) || (x == f->tx && y == f->ty)) break;
        x += (f->tx > x) - (f->tx < x); /* one step straight or diagonal */
        y += (f->ty > y) - (f->ty < y);
        sw_world_place(w, sw_self(t), x, y);
        f->steps++;
        SW_SLEEP(t, stride, 1);
    }
    SW_RETURN(t, ((sw_value){.i = f->steps}));
    SW_END(t);
}

static const sw_field walk_fields[] = {
    SW_FIELD(walk, tx, SW_T_I32), SW_FIELD(walk, ty, SW_T_I32), SW_FIELD(walk, steps, SW_T_I32),
    SW_FIELD_END};

const sw_func sw_func_walk_to = {.name = "walk_to", .run = walk_to_run,
                                 .frame_size = sizeof(walk), .fields = walk_fields};

/* ---- villagers --------------------------------------------------------------------- */

typedef struct {
    double hunger, tiredness, loneliness; /* needs: urgent at 1 */
    double hunger_rate, tired_rate, lonely_rate; /* growth per tick */
    double peak;        /* the highest any need has been */
    int32_t rest;       /* ticks of sleep at home */
    int32_t linger;     /* ticks at the tavern after a chat */
    int64_t since;      /* tick the needs were last brought up to date */
    int32_t home_x, home_y, market_x, market_y, tavern_x, tavern_y;
    int32_t errand;     /* the need being seen to */
    int32_t meals, naps, chats, walked;
    sw_chan shelf, seats, chat;
    sw_msg bread, seat, news;
    sw_value steps;     /* walk_to's result */
} villager;

/* Bring the needs up to the current tick. */
static void catch_up(sw_tasklet *t, villager *f) {
    double dt = (double)((int64_t)sw_now(t) - f->since);
    f->hunger += dt * f->hunger_rate;
    f->tiredness += dt * f->tired_rate;
    f->loneliness += dt * f->lonely_rate;
    f->since = (int64_t)sw_now(t);
    f->peak = fmax(f->peak, fmax(f->hunger, fmax(f->tiredness, f->loneliness)));
}

/* Ticks until the first need reaches 1 (at least 1). */
static sw_tick until_urgent(const villager *f) {
    double need[3] = {f->hunger, f->tiredness, f->loneliness};
    double rate[3] = {f->hunger_rate, f->tired_rate, f->lonely_rate};
    double best = 1e9;
    for (int i = 0; i < 3; i++)
        if (rate[i] > 0) best = fmin(best, ceil((1 - need[i]) / rate[i]));
    return best < 1 ? 1 : (sw_tick)best;
}

static int most_urgent(const villager *f) {
    if (f->hunger >= f->tiredness && f->hunger >= f->loneliness) return NEED_HUNGER;
    return f->tiredness >= f->loneliness ? NEED_TIRED : NEED_LONELY;
}

/* The cell of the nearest agent of `kind`; false if there is none. */
static bool find_place(sw_world *w, const sw_kind *kind, int32_t x, int32_t y, int32_t *px,
                       int32_t *py) {
    sw_sched *s = sw_world_sched(w);
    int64_t best = INT64_MAX;
    for (sw_id id = sw_sched_next(s, SW_ID_NONE); id; id = sw_sched_next(s, id)) {
        int32_t ax, ay;
        if (sw_sched_kind_of(s, id) != kind || !sw_world_cell_of(w, id, &ax, &ay)) continue;
        int64_t d = llabs((int64_t)ax - x) + llabs((int64_t)ay - y);
        if (d < best) best = d, *px = ax, *py = ay;
    }
    return best != INT64_MAX;
}

static void villager_init(sw_tasklet *t, void *frame) {
    villager *f = frame;
    /* people differ: rates vary by +-30 %, and the day starts part-way */
    f->hunger_rate *= 0.7 + 0.6 * sw_rand_unit(t);
    f->tired_rate *= 0.7 + 0.6 * sw_rand_unit(t);
    f->lonely_rate *= 0.7 + 0.6 * sw_rand_unit(t);
    f->hunger = 0.8 * sw_rand_unit(t);
    f->tiredness = 0.8 * sw_rand_unit(t);
    f->loneliness = 0.8 * sw_rand_unit(t);
    f->since = (int64_t)sw_now(t);
    sw_world_cell_of(sw_world_of(t), sw_self(t), &f->home_x, &f->home_y);
}

static sw_step villager_run(sw_tasklet *t, void *frame) {
    villager *f = frame;
    SW_BEGIN(t, idle, go, queue_for_bread, sleep_at_home, tell, listen, sit_down, drink, stand_up);
    {
        sw_world *w = sw_world_of(t);
        f->market_x = f->tavern_x = f->home_x;
        f->market_y = f->tavern_y = f->home_y;
        find_place(w, &sw_kind_market, f->home_x, f->home_y, &f->market_x, &f->market_y);
        find_place(w, &sw_kind_tavern, f->home_x, f->home_y, &f->tavern_x, &f->tavern_y);
        f->shelf = sw_world_chan(w, "shelf");
        f->seats = sw_world_chan(w, "seats");
        f->chat = sw_world_chan(w, "chat");
    }
    for (;;) {
        catch_up(t, f);
        SW_SLEEP(t, idle, until_urgent(f)); /* nothing to do until a need is urgent */
        catch_up(t, f);
        f->errand = most_urgent(f);
        {
            walk there = {f->home_x, f->home_y, 0};
            if (f->errand == NEED_HUNGER) there = (walk){f->market_x, f->market_y, 0};
            if (f->errand == NEED_LONELY) there = (walk){f->tavern_x, f->tavern_y, 0};
            SW_CALL(t, go, &sw_func_walk_to, &there, &f->steps);
        }
        f->walked += (int32_t)f->steps.i;
        if (f->errand == NEED_HUNGER) {
            SW_RECV(t, queue_for_bread, f->shelf, &f->bread); /* until there is a loaf */
            catch_up(t, f);
            if (sw_status(t) == SW_OK) f->meals++;
            f->hunger = 0; /* no baker at all: it forages */
        } else if (f->errand == NEED_TIRED) {
            SW_SLEEP(t, sleep_at_home, (sw_tick)(f->rest > 0 ? f->rest : 1));
            catch_up(t, f);
            f->tiredness = 0;
            f->naps++;
        } else {
            f->news = (sw_msg){.tag = MSG_NEWS, .who = sw_self(t), .i = f->chats};
            if (sw_chan_balance(sw_sched_of(t), f->chat) < 0)
                SW_SEND(t, tell, f->chat, &f->news);   /* somebody is listening */
            else
                SW_RECV(t, listen, f->chat, &f->news); /* wait for someone to talk to */
            SW_RECV(t, sit_down, f->seats, &f->seat);  /* a free seat, or wait for one */
            if (sw_status(t) == SW_OK) {
                SW_SLEEP(t, drink, (sw_tick)(f->linger > 0 ? f->linger : 1));
                SW_SEND(t, stand_up, f->seats, &f->seat);
            }
            catch_up(t, f);
            f->loneliness = 0;
            f->chats++;
        }
    }
    SW_END(t);
}

static const sw_field villager_fields[] = {
    SW_FIELD(villager, hunger, SW_T_F64),
    SW_FIELD(villager, tiredness, SW_T_F64),
    SW_FIELD(villager, loneliness, SW_T_F64),
    SW_PARAM(villager, hunger_rate, SW_T_F64, 1.0 / 150, "hunger gained per tick (about)"),
    SW_PARAM(villager, tired_rate, SW_T_F64, 1.0 / 220, "tiredness gained per tick (about)"),
    SW_PARAM(villager, lonely_rate, SW_T_F64, 1.0 / 180, "loneliness gained per tick (about)"),
    SW_FIELD(villager, peak, SW_T_F64),
    SW_PARAM(villager, rest, SW_T_I32, 40, "ticks of sleep at home"),
    SW_PARAM(villager, linger, SW_T_I32, 8, "ticks at the tavern after a chat"),
    SW_FIELD(villager, since, SW_T_I64),
    SW_FIELD(villager, home_x, SW_T_I32),
    SW_FIELD(villager, home_y, SW_T_I32),
    SW_FIELD(villager, market_x, SW_T_I32),
    SW_FIELD(villager, market_y, SW_T_I32),
    SW_FIELD(villager, tavern_x, SW_T_I32),
    SW_FIELD(villager, tavern_y, SW_T_I32),
    SW_FIELD(villager, errand, SW_T_I32),
    SW_FIELD(villager, meals, SW_T_I32),
    SW_FIELD(villager, naps, SW_T_I32),
    SW_FIELD(villager, chats, SW_T_I32),
    SW_FIELD(villager, walked, SW_T_I32),
    SW_FIELD(villager, shelf, SW_T_CHAN),
    SW_FIELD(villager, seats, SW_T_CHAN),
    SW_FIELD(villager, chat, SW_T_CHAN),
    SW_FIELD(villager, bread, SW_T_MSG),
    SW_FIELD(villager, seat, SW_T_MSG),
    SW_FIELD(villager, news, SW_T_MSG),
    SW_FIELD(villager, steps, SW_T_VALUE),
    SW_FIELD_END};

const sw_kind sw_kind_villager = {
    .name = "villager", .frame_size = sizeof(villager), .fields = villager_fields,
    .init = villager_init, .run = villager_run, .color = 0xf0ad4e, .place = SW_PLACE_CELL,
    .doc = "sleeps until hungry, tired or lonely, then walks to market, home or tavern (village)"};

/* ---- the baker at the market ----------------------------------------------------------- */

typedef struct {
    int32_t batch; /* loaves baked each dawn */
    int32_t baked; /* this morning, so far */
    sw_chan dawn, shelf;
    sw_msg news, loaf;
} market;

static sw_step market_run(sw_tasklet *t, void *frame) {
    market *f = frame;
    SW_BEGIN(t, night, bake);
    f->dawn = sw_chan_named(t, "dawn");
    f->shelf = sw_chan_named(t, "shelf");
    for (;;) {
        SW_RECV(t, night, f->dawn, &f->news); /* asleep until dawn */
        if (sw_status(t) != SW_OK) SW_EXIT(t);
        for (f->baked = 0; f->baked < f->batch; f->baked++) {
            f->loaf = (sw_msg){.tag = MSG_LOAF, .who = sw_self(t), .i = f->baked};
            SW_SEND(t, bake, f->shelf, &f->loaf); /* waits while the shelf is full */
            if (sw_status(t) != SW_OK) SW_EXIT(t);
        }
    }
    SW_END(t);
}

static const sw_field market_fields[] = {
    SW_PARAM(market, batch, SW_T_I32, 60, "loaves baked each dawn"),
    SW_FIELD(market, baked, SW_T_I32),
    SW_FIELD(market, dawn, SW_T_CHAN),
    SW_FIELD(market, shelf, SW_T_CHAN),
    SW_FIELD(market, news, SW_T_MSG),
    SW_FIELD(market, loaf, SW_T_MSG),
    SW_FIELD_END};

const sw_kind sw_kind_market = {
    .name = "market", .frame_size = sizeof(market), .fields = market_fields, .run = market_run,
    .color = 0xc0392b, .place = SW_PLACE_NONE,
    .doc = "the baker: at each dawn bakes loaves onto the shelf (village)"};

/* ---- the tavern --------------------------------------------------------------------------- */

typedef struct {
    int32_t seats; /* seat tokens laid out on "seats" */
    int32_t laid;
    sw_chan cell;
    sw_msg seat, news;
} tavern;

static sw_step tavern_run(sw_tasklet *t, void *frame) {
    tavern *f = frame;
    SW_BEGIN(t, lay_seat, open);
    {
        sw_chan seats = sw_chan_named(t, "seats");
        for (f->laid = 0; f->laid < f->seats && seats; f->laid++) {
            f->seat = (sw_msg){.tag = MSG_SEAT, .i = f->laid, .who = sw_self(t)};
            if (sw_chan_post(sw_sched_of(t), seats, &f->seat) != SW_OK) break; /* full */
        }
    }
    {
        int32_t x, y;
        if (!sw_world_cell_of(sw_world_of(t), sw_self(t), &x, &y)) SW_EXIT(t);
        f->cell = sw_cell_chan(t, x, y);
    }
    for (;;) SW_RECV(t, open, f->cell, &f->news); /* stands there, open all hours */
    SW_END(t);
}

static const sw_field tavern_fields[] = {
    SW_PARAM(tavern, seats, SW_T_I32, 6, "seats at the tavern's tables"),
    SW_FIELD(tavern, laid, SW_T_I32),
    SW_FIELD(tavern, cell, SW_T_CHAN),
    SW_FIELD(tavern, seat, SW_T_MSG),
    SW_FIELD(tavern, news, SW_T_MSG),
    SW_FIELD_END};

const sw_kind sw_kind_tavern = {
    .name = "tavern", .frame_size = sizeof(tavern), .fields = tavern_fields, .run = tavern_run,
    .color = 0x8e44ad, .place = SW_PLACE_NONE,
    .doc = "the tavern: lays its seats out on the \"seats\" channel (village)"};

/* ---- the village, built in C ------------------------------------------------------------------ */

/* A tick-start hook: fire "dawn" every `day` ticks (from tick 1), as the
 * scenario's scheduled events do. The day length rides in the pointer, so
 * the hook needs no memory of its own. */
static void fire_dawn(sw_sched *s, void *ud) {
    uint64_t day = (uint64_t)(uintptr_t)ud;
    if (sw_sched_now(s) % day != 1 % day) return;
    sw_chan dawn = sw_world_chan(sw_world_of_sched(s), "dawn");
    sw_chan_post(s, dawn, &(sw_msg){.tag = MSG_DAWN, .i = (int32_t)(sw_sched_now(s) / day)});
}

sw_world *sw_village_new(const sw_village_desc *desc) {
    sw_village_desc d = desc ? *desc : (sw_village_desc){0};
    if (!d.size) d.size = 40;
    if (!d.villagers) d.villagers = 60;
    if (!d.day) d.day = 100;
    sw_world *w = sw_world_new(&(sw_world_desc){.width = d.size, .height = d.size, .seed = d.seed});
    if (!w) return NULL;
    sw_sched *s = sw_world_sched(w);
    int32_t mid = (int32_t)d.size / 2;
    if (sw_world_chan_declare(w, "dawn", &(sw_chan_desc){.kind = SW_CHAN_EVENT}) != SW_OK ||
        sw_world_chan_declare(w, "shelf", &(sw_chan_desc){.kind = SW_CHAN_BUFFERED, .capacity = 20}) != SW_OK ||
        sw_world_chan_declare(w, "seats", &(sw_chan_desc){.kind = SW_CHAN_BUFFERED, .capacity = 6}) != SW_OK ||
        sw_world_chan_declare(w, "chat", &(sw_chan_desc){.kind = SW_CHAN_RENDEZVOUS}) != SW_OK ||
        !sw_world_spawn_at(w, &sw_kind_market, &(market){.batch = (int32_t)d.villagers}, mid / 2, mid, 0) ||
        !sw_world_spawn_at(w, &sw_kind_tavern, &(tavern){.seats = 6}, mid + mid / 2, mid, 0)) {
        sw_world_free(w);
        return NULL;
    }
    villager p = {.hunger_rate = 1.0 / 150, .tired_rate = 1.0 / 220, .lonely_rate = 1.0 / 180,
                  .rest = 40, .linger = 8};
    if (sw_world_populate(w, &sw_kind_villager, &p, d.villagers, SW_PLACE_CELL, 0, 1) < 0) {
        sw_world_free(w);
        return NULL;
    }
    sw_sched_on_tick_start(s, fire_dawn, (void *)(uintptr_t)d.day);
    sw_sched_hold(s, 1); /* dawn always comes again */
    return w;
}
