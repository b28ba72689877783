/* bench_micro.c - `swarmlet bench micro`: the runtime's hot paths, each
 * measured beside the machine's floor in the same run.
 *
 * Figures: a one-way channel handoff between two tasklets (default
 * preference), spawn + first run of a tasklet, the engine's bytes per
 * blocked tasklet beyond its own frame (RSS growth), dense ticks (every
 * tasklet wakes every tick), sparse ticks (each sleeps 1..100 ticks at
 * random), and the floor: plain indirect calls through a function-pointer
 * table, the least a resume can cost. Reference numbers for Go, Stackless and
 * libdill are quoted from their own published measurements, not re-run here.
 * `--quick` shrinks every count (a smoke test of the command, not a timing). */
#include "bench.h"
#include "cli.h"
#include "swarmlet.h"

#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long rss_bytes(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

static void die(sw_sched *s, const char *what) {
    fprintf(stderr, "swarmlet bench micro: %s: %s\n%s", what, s ? sw_sched_errmsg(s) : "out of memory",
            s ? sw_sched_report(s) : "");
    exit(1);
}

/* ---- the floor: indirect calls through a table --------------------------------- */

static uint64_t op0(uint64_t x) { return x * 3 + 1; }
static uint64_t op1(uint64_t x) { return x ^ (x >> 7); }
static uint64_t op2(uint64_t x) { return x + 0x9e37; }
static uint64_t op3(uint64_t x) { return x * 5 - 3; }
static uint64_t (*volatile g_ops[4])(uint64_t) = {op0, op1, op2, op3};

static double floor_call_ns(uint64_t n) {
    uint64_t x = 1;
    double t0 = sw_cli_seconds();
    for (uint64_t i = 0; i < n; i++) x = g_ops[i & 3](x);
    double dt = sw_cli_seconds() - t0;
    if (x == 42) puts(""); /* keep the loop */
    return dt * 1e9 / (double)n;
}

/* ---- handoff ------------------------------------------------------------------------ */

typedef struct { sw_chan ch; int64_t n, i; sw_msg m; } pingpong;

/* The two tasklets start on a cache line, as the engine's functions do
 * (-falign-functions=64 covers only the library): where they fell by chance
 * moved the handoff by ~1.5 % between builds with the same instructions. */
#define SW_BENCH_HOT __attribute__((aligned(64)))

static SW_BENCH_HOT sw_step sender_run(sw_tasklet *t, void *frame) {
    pingpong *f = frame;
    SW_BEGIN(t, put);
    for (f->i = 0; f->i < f->n; f->i++) {
        f->m.i = (int32_t)f->i;
        SW_SEND(t, put, f->ch, &f->m);
    }
    SW_END(t);
}

static SW_BENCH_HOT sw_step receiver_run(sw_tasklet *t, void *frame) {
    pingpong *f = frame;
    SW_BEGIN(t, get);
    for (f->i = 0; f->i < f->n; f->i++) SW_RECV(t, get, f->ch, &f->m);
    SW_END(t);
}

static const sw_kind sender_kind = {.name = "sender", .frame_size = sizeof(pingpong), .run = sender_run};
static const sw_kind receiver_kind = {.name = "receiver", .frame_size = sizeof(pingpong), .run = receiver_run};

static double bench_handoff(int64_t n) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 1, .watchdog = UINT32_MAX});
    if (!s) die(NULL, "handoff");
    sw_chan ch = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_RENDEZVOUS});
    sw_sched_spawn(s, &receiver_kind, &(pingpong){.ch = ch, .n = n}, 0);
    sw_sched_spawn(s, &sender_kind, &(pingpong){.ch = ch, .n = n}, 0);
    double t0 = sw_cli_seconds();
    if (sw_sched_step(s) != SW_OK || sw_sched_count(s) != 0) die(s, "handoff");
    double dt = sw_cli_seconds() - t0;
    sw_sched_free(s);
    return dt * 1e9 / (double)n;
}

/* ---- spawn + first run ------------------------------------------------------------------ */

typedef struct { int64_t n, i; } spawner;
typedef struct { int64_t x; } blink;

static sw_step blink_run(sw_tasklet *t, void *frame) {
    blink *f = frame;
    SW_BEGIN(t);
    f->x++;
    SW_END(t);
}
static const sw_kind blink_kind = {.name = "blink", .frame_size = sizeof(blink), .run = blink_run};

static sw_step spawner_run(sw_tasklet *t, void *frame) {
    spawner *f = frame;
    SW_BEGIN(t);
    for (f->i = 0; f->i < f->n; f->i++)
        if (!sw_spawn(t, &blink_kind, NULL, 0)) SW_EXIT(t);
    SW_END(t);
}
static const sw_kind spawner_kind = {.name = "spawner", .frame_size = sizeof(spawner), .run = spawner_run};

static double bench_spawn(int64_t n) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 1});
    if (!s) die(NULL, "spawn");
    /* a warm-up round grows the tables, as a running simulation has */
    for (int round = 0; round < 2; round++) {
        sw_sched_spawn(s, &spawner_kind, &(spawner){.n = n}, 0);
        double t0 = sw_cli_seconds();
        if (sw_sched_step(s) != SW_OK || sw_sched_count(s) != 0) die(s, "spawn");
        double dt = sw_cli_seconds() - t0;
        if (round == 1) {
            sw_sched_free(s);
            return dt * 1e9 / (double)n;
        }
    }
    return 0;
}

/* ---- bytes per blocked tasklet ------------------------------------------------------------- */

/* 48 bytes of fields: with the 16-byte frame header, one 64-byte frame. */
typedef struct { sw_chan ch; sw_msg m; int64_t pad; } idle;

static sw_step idle_run(sw_tasklet *t, void *frame) {
    idle *f = frame;
    SW_BEGIN(t, wait);
    SW_RECV(t, wait, f->ch, &f->m);
    SW_END(t);
}
static const sw_kind idle_kind = {.name = "idle", .frame_size = sizeof(idle), .run = idle_run};

static double bench_memory(int64_t n, double *total_per) {
    enum { CHANS = 1024 };
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 1});
    if (!s) die(NULL, "memory");
    sw_sched_hold(s, 1);
    sw_chan ch[CHANS];
    for (int i = 0; i < CHANS; i++) ch[i] = sw_chan_new(s, &(sw_chan_desc){.kind = SW_CHAN_RENDEZVOUS});
#ifdef __GLIBC__
    /* what the benchmarks before this one freed goes back to the system
       (the program keeps freed memory: swarmlet.c), so that the growth
       counts the tasklets, not reused memory */
    malloc_trim(0);
#endif
    long before = rss_bytes();
    /* spawned a million at a time, as a loader would stream them in: the
       batch array then stays small and RSS counts the tasklets themselves */
    for (int64_t i = 0; i < n;) {
        for (int64_t end = i + 1000000 < n ? i + 1000000 : n; i < end; i++)
            if (!sw_sched_spawn(s, &idle_kind, &(idle){.ch = ch[i % CHANS]}, 0)) die(s, "memory");
        if (sw_sched_step(s) != SW_OK) die(s, "memory");
    }
    long after = rss_bytes();
    if (sw_sched_count(s) != (uint32_t)n) die(s, "memory");
    sw_sched_free(s);
    double per = (double)(after - before) / (double)n;
    *total_per = per;
    return per - (double)sizeof(idle);
}

/* ---- dense and sparse ticks ----------------------------------------------------------------- */

typedef struct { int64_t wakes; } pulse;

static sw_step pulse_run(sw_tasklet *t, void *frame) {
    pulse *f = frame;
    SW_BEGIN(t, beat);
    for (;;) {
        f->wakes++;
        SW_SLEEP(t, beat, 1);
    }
    SW_END(t);
}
static const sw_kind pulse_kind = {.name = "pulse", .frame_size = sizeof(pulse), .run = pulse_run};

static sw_step nap_run(sw_tasklet *t, void *frame) {
    pulse *f = frame;
    SW_BEGIN(t, nap);
    for (;;) {
        f->wakes++;
        SW_SLEEP(t, nap, 1 + sw_rand_below(t, 100));
    }
    SW_END(t);
}
static const sw_kind nap_kind = {.name = "nap", .frame_size = sizeof(pulse), .run = nap_run};

/* Wake-ups per second over `ticks` ticks, after `warm` ticks to settle. */
static double bench_ticks(const sw_kind *kind, int64_t n, int warm, int ticks) {
    sw_sched *s = sw_sched_new(&(sw_sched_desc){.seed = 1});
    if (!s) die(NULL, kind->name);
    for (int64_t i = 0; i < n; i++)
        if (!sw_sched_spawn(s, kind, NULL, 0)) die(s, kind->name);
    if (sw_sched_run(s, (sw_tick)warm) != SW_OK) die(s, kind->name);
    uint64_t wakes = 0;
    double t0 = sw_cli_seconds();
    for (int i = 0; i < ticks; i++) {
        if (sw_sched_step(s) != SW_OK) die(s, kind->name);
        wakes += sw_sched_resumes(s);
    }
    double dt = sw_cli_seconds() - t0;
    sw_sched_free(s);
    return (double)wakes / dt;
}

/* ---- report ------------------------------------------------------------------------------------ */

static void machine(char *out, size_t len) {
    char model[128] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) == 0 && colon) {
                snprintf(model, sizeof model, "%s", colon + 2);
                model[strcspn(model, "\n")] = '\0';
                break;
            }
        }
        fclose(f);
    }
    snprintf(out, len, "%s, %ld cores", model, sysconf(_SC_NPROCESSORS_ONLN));
}

int sw_bench_micro(int argc, char **argv) {
    bool json = false, quick = false;
    const char *only = NULL;
    int ticks_override = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--ticks") == 0 && i + 1 < argc) {
            ticks_override = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: swarmlet bench micro [--json] [--quick] [--only FIGURE]\n\n"
                   "Times the tasklet runtime's hot paths beside the cost of a plain indirect call.\n"
                   "  --json         one JSON object instead of the table\n"
                   "  --quick        small counts: checks the command works, the timings mean little\n"
                   "  --only FIGURE  run one figure (handoff, spawn, memory, dense, sparse), for profiling\n"
                   "  --ticks N      dense and sparse ticks measured (default 10 and 1000)\n");
            return 0;
        } else {
            fprintf(stderr, "swarmlet bench micro: unknown option \"%s\" (options: --json, --quick)\n", argv[i]);
            return 2;
        }
    }
    int64_t n_handoff = quick ? 200000 : 20000000;
    int64_t n_spawn = quick ? 100000 : 5000000;
    int64_t n_blocked = quick ? 200000 : 10000000;
    int64_t n_dense = quick ? 100000 : 10000000;
    int64_t n_sparse = quick ? 100000 : 10000000;
    int dense_ticks = quick ? 3 : 10, sparse_ticks = quick ? 50 : 1000;
    if (ticks_override > 0) dense_ticks = sparse_ticks = ticks_override;

    char mach[200];
    machine(mach, sizeof mach);
    if (!json) fprintf(stderr, "measuring on %s%s...\n", mach, quick ? " (quick)" : "");
#define RUN(name) (!only || strcmp(only, name) == 0)
    double floor_ns = floor_call_ns(quick ? 10000000 : 200000000);
    double handoff = RUN("handoff") ? bench_handoff(n_handoff) : 0;
    double spawn = RUN("spawn") ? bench_spawn(n_spawn) : 0;
    double total_per = 0;
    double bytes = RUN("memory") ? bench_memory(n_blocked, &total_per) : 0;
    double dense = RUN("dense") ? bench_ticks(&pulse_kind, n_dense, 1, dense_ticks) : 0;
    /* sparse: settle for 100 ticks so the sleeps are spread out */
    double sparse = RUN("sparse") ? bench_ticks(&nap_kind, n_sparse, quick ? 10 : 100, sparse_ticks) : 0;
#undef RUN

    if (json) {
        printf("{\"handoff_ns\": %.3f, \"spawn_ns\": %.3f, \"bytes_per_tasklet\": %.2f, "
               "\"dense_wakeups_per_sec\": %.0f, \"sparse_wakeups_per_sec\": %.0f, "
               "\"floor_call_ns\": %.3f, \"rss_bytes_per_blocked_tasklet\": %.2f, "
               "\"frame_bytes\": %zu, \"quick\": %s, \"machine\": \"%s\", "
               "\"counts\": {\"handoff\": %lld, \"spawn\": %lld, \"blocked\": %lld, \"dense\": %lld, "
               "\"dense_ticks\": %d, \"sparse\": %lld, \"sparse_ticks\": %d}}\n",
               handoff, spawn, bytes, dense, sparse, floor_ns, total_per, sizeof(idle),
               quick ? "true" : "false", mach, (long long)n_handoff, (long long)n_spawn,
               (long long)n_blocked, (long long)n_dense, dense_ticks, (long long)n_sparse, sparse_ticks);
        return 0;
    }
    double dense_ns = 1e9 / dense, sparse_ns = 1e9 / sparse;
    printf("swarmlet bench micro — %s%s\n\n", mach, quick ? " (quick: counts too small to mean much)" : "");
    printf("%-34s %14s %12s %10s  %s\n", "figure", "swarmlet", "floor calls", "target", "baselines");
    printf("%-34s %11.1f ns %12.1f %10s  %s\n", "channel handoff (one way)", handoff, handoff / floor_ns,
           "<= 10 ns", "Go 130-150 ns, Stackless ~140 ns, libdill ~41 ns");
    printf("%-34s %11.1f ns %12.1f %10s  %s\n", "spawn + first run", spawn, spawn / floor_ns, "<= 50 ns",
           "goroutine 1.4-3 us");
    printf("%-34s %12.1f B %12s %10s  %s\n", "engine bytes per blocked tasklet", bytes, "-", "<= 64 B",
           "goroutine 2.8 KB, Stackless ~620 B");
    printf("%-34s %11.1f M/s %11.1f %10s  (%.1f ns per wake-up)\n", "dense ticks (all wake each tick)",
           dense / 1e6, dense_ns / floor_ns, ">= 100 M/s", dense_ns);
    printf("%-34s %11.1f M/s %11.1f %10s  (%.1f ns per wake-up)\n", "sparse ticks (sleep 1..100)",
           sparse / 1e6, sparse_ns / floor_ns, ">= 20 M/s", sparse_ns);
    printf("%-34s %11.2f ns %12s %10s\n", "floor: one indirect call", floor_ns, "1.0", "-");
    printf("\n'floor calls' = the figure's time per operation in plain indirect calls.\n"
           "Counts: handoff %lld, spawn %lld, blocked %lld (RSS %.1f B each, frame %zu B),\n"
           "dense %lld x %d ticks, sparse %lld x %d ticks.\n",
           (long long)n_handoff, (long long)n_spawn, (long long)n_blocked, total_per, sizeof(idle),
           (long long)n_dense, dense_ticks, (long long)n_sparse, sparse_ticks);
    return 0;
}
