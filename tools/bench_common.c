/* bench_common.c - what the model suites (`bench models`, `bench floor`)
 * share: their flags, the median, the --only filter, and running one
 * configuration in a child process of its own. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double sw_bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool sw_bench_selected(const char *only, const char *key) {
    if (!only) return true;
    for (const char *p = only; *p;) {
        size_t n = strcspn(p, ",");
        for (const char *k = key; n && *k; k++)
            if (strncmp(k, p, n) == 0) return true;
        p += n + (p[n] == ',');
    }
    return false;
}

int sw_bench_common_flag(const char *suite, int argc, char **argv, int *i, sw_bench_opts *o) {
    const char *a = argv[*i];
    if (strcmp(a, "--json") == 0) {
        o->json = true;
    } else if (strcmp(a, "--quick") == 0) {
        o->quick = true;
    } else if (strcmp(a, "--runs") == 0 && *i + 1 < argc) {
        char *end;
        long v = strtol(argv[++*i], &end, 10);
        if (*end || v < 1 || v > 100000) {
            fprintf(stderr, "swarmlet bench %s: --runs: \"%s\" is not a count from 1 to 100000\n", suite,
                    argv[*i]);
            return 2;
        }
        o->runs = (int)v;
    } else if (strcmp(a, "--only") == 0 && *i + 1 < argc) {
        o->only = argv[++*i];
    } else {
        return 0;
    }
    return 1;
}

/* The comparison runs each model in a process of its own: what one model
 * leaves in the allocator (memory given back to the system, to be faulted
 * in again, or kept and fragmented) then cannot move the next one's
 * figures. Measured in one process, Schelling large ran 40 % slower after
 * Schelling small than alone, all of it in construction. Where no child
 * can be made, the job runs here. */
int sw_bench_apart(sw_bench_job_fn *fn, const void *arg, void *out, size_t size) {
    int fd[2];
    if (pipe(fd) != 0) return fn(arg, out);
    fflush(NULL); /* nothing buffered twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return fn(arg, out);
    }
    if (pid == 0) {
        close(fd[0]);
        int rc = fn(arg, out);
        if (!rc && write(fd[1], out, size) != (ssize_t)size) rc = 1;
        _exit(rc);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], out, size);
    close(fd[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
    return got == (ssize_t)size ? 0 : 1;
}
