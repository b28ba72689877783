/* support.c - helpers shared by the tests: shelling out to the real binary,
 * scratch directories, whole-file reads. */
#include "support.h"
#include "sched_fixtures.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int sw_test_sh(char **out, const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[8400];
    snprintf(full, sizeof full, "( %s ) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    if (buf) buf[len] = '\0';
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *sw_test_dir(const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", SW_TEST_TMP, name);
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
    if (system(cmd) != 0) return NULL;
    return path;
}

char *sw_test_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

int sw_test_write(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

char sw_test_trace[8192];
bool sw_test_trace_cut;

void sw_test_tr(const char *fmt, ...) {
    size_t len = strlen(sw_test_trace);
    if (len == 0) sw_test_trace_cut = false;
    if (len + 2 >= sizeof sw_test_trace) {
        sw_test_trace_cut = true;
        return;
    }
    if (len) sw_test_trace[len++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sw_test_trace + len, sizeof sw_test_trace - len, fmt, ap);
    va_end(ap);
}

int sw_test_run_traced(sw_sched *s, sw_tick ticks) {
    sw_test_trace[0] = '\0';
    return sw_sched_run(s, ticks);
}

int sw_test_step_traced(sw_sched *s) {
    sw_test_trace[0] = '\0';
    return sw_sched_step(s);
}

/* ---- the scheduler tests' kinds (sched_fixtures.h) ---- */

sw_step waiter_run(sw_tasklet *t, void *frame) {
    waiter *f = frame;
    SW_BEGIN(t, pond, shout);
    if (f->mode == 0) {
        SW_RECV(t, pond, f->ch, &f->m);
    } else {
        for (;;) SW_SEND(t, shout, f->ch, &f->m);
    }
    SW_END(t);
}
const sw_kind waiter_kind = {.name = "waiter", .frame_size = sizeof(waiter), .run = waiter_run};
const sw_kind heron_kind = {.name = "heron", .frame_size = sizeof(waiter), .run = waiter_run};

int64_t g_slept[64];

static sw_step sleeper_run(sw_tasklet *t, void *frame) {
    sleeper *f = frame;
    SW_BEGIN(t, nap);
    f->start = (int64_t)sw_now(t);
    SW_SLEEP(t, nap, (sw_tick)f->n);
    f->woke = (int64_t)sw_now(t);
    g_slept[f->idx] = f->woke - f->start;
    sw_test_tr("%d", f->idx);
    SW_END(t);
}
const sw_kind sleeper_kind = {.name = "sleeper", .frame_size = sizeof(sleeper), .run = sleeper_run};

static sw_step alarm_run(sw_tasklet *t, void *frame) {
    alarm_ *f = frame;
    SW_BEGIN(t, nap);
    SW_SLEEP(t, nap, (sw_tick)f->until - sw_now(t));
    sw_test_tr("%c@%llu", (char)f->name, (unsigned long long)sw_now(t));
    SW_END(t);
}
const sw_kind alarm_kind = {.name = "alarm", .frame_size = sizeof(alarm_), .run = alarm_run};

void *sw_test_failing_alloc(void *ud, void *p, size_t n) {
    sw_test_failing *a = ud;
    if (n == 0) {
        if (p) a->live--;
        free(p);
        return NULL;
    }
    if (++a->calls == a->fail_at) return NULL;
    void *q = realloc(p, n);
    if (q && !p) a->live++;
    return q;
}
