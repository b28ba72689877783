/* main.c - `swarmlet view`: parse the flags, then either run the window's
 * event loop, render one screenshot without a display, or time frames.
 *
 *   swarmlet view SCENARIO|DB [--snapshot ID] [--screenshot FILE.png --ticks N] ...
 *
 * Exit status: 0 success, 1 a runtime failure (no display, SDL, I/O), 2 bad
 * input or usage, as every swarmlet command. */
#include "app_int.h"
#include "viewer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: swarmlet view SCENARIO.json|SNAPSHOTS.db [options]\n"
            "\n"
            "Watch a simulation in a window: play, pause, step, zoom, inspect agents,\n"
            "save and load snapshots. Press H in the window for every key.\n"
            "\n"
            "options:\n"
            "  --snapshot ID         with a database: open that snapshot (default: the latest)\n"
            "  --ticks N             advance N ticks before showing the world\n"
            "  --screenshot FILE.png render the window to a PNG after --ticks and exit;\n"
            "                        needs no display\n"
            "  --inspect X,Y         select the agent (or cell) at world point X,Y\n"
            "  --follow              with --inspect: keep the selected agent centred\n"
            "  --zoom Z              pixels per cell (default: fit the world)\n"
            "  --size WxH            window size in pixels (default 1280x800)\n"
            "  --seed N              override the scenario's seed\n"
            "  --db FILE             where S saves snapshots (default out/NAME.db, or the\n"
            "                        database opened)\n"
            "  --play                start playing at once\n"
            "  --keys KEYS           press these keys first, one character each (e.g. \"ss\",\n"
            "                        \"h\", \"L\" for shift+L, \">\" for the right arrow)\n"
            "  --frames N            quit after N frames of the window's loop (with\n"
            "                        --screenshot: the picture of the last one; scripts, CI)\n"
            "  --bench-frames N      render N frames offscreen and print frames per second\n");
}

static bool parse_i64(const char *s, int64_t lo, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo) return false;
    *out = v;
    return true;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Render `frames` frames as fast as possible: the world redrawn from the
 * engine each time (positions gathered, texture uploaded, panel drawn). */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall time of `frames` frames; *cpu gets the CPU time they used (all
 * threads), which a busy shared machine inflates much less than wall time. */
static double time_frames(sw_viewer *v, int64_t frames, bool repaint, double *cpu) {
    double t0 = now_s(), c0 = cpu_s();
    for (int64_t i = 0; i < frames; i++) {
        v->tex_dirty = repaint;
        sw_viewer_render(v);
        SDL_RenderPresent(v->ren);
    }
    *cpu = cpu_s() - c0;
    return now_s() - t0;
}

/* Render `frames` frames as fast as possible, twice: repainting the world
 * texture from the engine every frame (what each new tick costs: every
 * agent's position and colour gathered, the texture uploaded), and as a
 * paused or slowly playing world is drawn (the texture reused). */
static int bench(sw_viewer *v, int64_t frames) {
    SDL_RendererInfo info;
    SDL_GetRendererInfo(v->ren, &info);
    uint32_t agents = sw_sched_count(sw_world_sched(sw_sim_world(v->sim)));
    sw_viewer_render(v);
    SDL_RenderPresent(v->ren);
    double cfull, cstill;
    double full = time_frames(v, frames, true, &cfull), still = time_frames(v, frames, false, &cstill);
    double f = (double)frames;
    /* Playing: frames as the window loop makes them, stepping as it goes. */
    sw_tick t0 = sw_sim_now(v->sim);
    v->playing = true;
    double p0 = now_s();
    for (int64_t i = 0; i < frames; i++) {
        sw_viewer_frame(v);
    }
    double play = now_s() - p0;
    sw__viewer_settle(v);
    sw_tick played = sw_sim_now(v->sim) - t0;
    printf("%u agents, %ux%u world, %dx%d window, renderer %s, zoom %.3g, %lld frames:\n"
           "  world repainted every frame: %.1f fps (%.1f ms per frame, %.1f ms CPU)\n"
           "  world unchanged (paused):    %.1f fps (%.1f ms per frame, %.1f ms CPU)\n"
           "  playing:                     %.1f fps, %llu ticks in %.2f s (%s)\n",
           agents, sw_world_width(sw_sim_world(v->sim)), sw_world_height(sw_sim_world(v->sim)),
           v->w, v->h, info.name, v->zoom, (long long)frames, f / full, full * 1000 / f,
           cfull * 1000 / f, f / still, still * 1000 / f, cstill * 1000 / f, f / play,
           (unsigned long long)played, play, v->async ? "ticks on the worker thread" : "ticks inline");
    return 0;
}

int sw_viewer_main(int argc, char **argv) {
    sw_viewer_desc d = {0};
    const char *shot = NULL, *keys = NULL;
    int64_t ticks = 0, bench_frames = 0, frames = 0;
    bool play = false, follow = false, has_inspect = false;
    double ix = 0, iy = 0, zoom = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        bool takes = strcmp(a, "--snapshot") == 0 || strcmp(a, "--ticks") == 0 ||
                     strcmp(a, "--screenshot") == 0 || strcmp(a, "--size") == 0 ||
                     strcmp(a, "--seed") == 0 || strcmp(a, "--db") == 0 ||
                     strcmp(a, "--bench-frames") == 0 || strcmp(a, "--inspect") == 0 ||
                     strcmp(a, "--zoom") == 0 || strcmp(a, "--frames") == 0 ||
                     strcmp(a, "--keys") == 0;
        if (takes && !val) {
            fprintf(stderr, "swarmlet view: %s needs a value (see swarmlet view --help)\n", a);
            return 2;
        }
        if (strcmp(a, "--snapshot") == 0) {
            if (!parse_i64(val, 1, &d.snapshot)) goto bad_value;
        } else if (strcmp(a, "--ticks") == 0) {
            if (!parse_i64(val, 0, &ticks)) goto bad_value;
        } else if (strcmp(a, "--frames") == 0) {
            if (!parse_i64(val, 1, &frames)) goto bad_value;
        } else if (strcmp(a, "--bench-frames") == 0) {
            if (!parse_i64(val, 1, &bench_frames)) goto bad_value;
        } else if (strcmp(a, "--seed") == 0) {
            int64_t s;
            if (!parse_i64(val, 0, &s)) goto bad_value;
            d.seed = (uint64_t)s;
            d.has_seed = true;
        } else if (strcmp(a, "--screenshot") == 0) {
            shot = val;
        } else if (strcmp(a, "--keys") == 0) {
            keys = val;
        } else if (strcmp(a, "--db") == 0) {
            d.db = val;
        } else if (strcmp(a, "--size") == 0) {
            if (sscanf(val, "%dx%d", &d.width, &d.height) != 2 || d.width < 160 || d.height < 120 ||
                d.width > 16384 || d.height > 16384)
                goto bad_value;
        } else if (strcmp(a, "--inspect") == 0) {
            if (sscanf(val, "%lf,%lf", &ix, &iy) != 2) goto bad_value;
            has_inspect = true;
        } else if (strcmp(a, "--zoom") == 0) {
            char *end;
            zoom = strtod(val, &end);
            if (*end || !(zoom > 0) || zoom > 400) goto bad_value;
        } else if (strcmp(a, "--play") == 0) {
            play = true;
            continue;
        } else if (strcmp(a, "--follow") == 0) {
            follow = true;
            continue;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "swarmlet view: unknown option \"%s\" (see swarmlet view --help)\n", a);
            return 2;
        } else if (!d.path) {
            d.path = a;
            continue;
        } else {
            fprintf(stderr, "swarmlet view: one scenario or database at a time (got \"%s\" and \"%s\")\n",
                    d.path, a);
            return 2;
        }
        i++;
        continue;
    bad_value:
        fprintf(stderr, "swarmlet view: %s: bad value \"%s\" (see swarmlet view --help)\n", a, val);
        return 2;
    }
    if (!d.path) {
        usage(stderr);
        return 2;
    }
    /* A screenshot alone needs no window on screen; with --frames it is
     * taken from the real window after its loop ran. */
    d.hidden = (shot != NULL && frames == 0) || bench_frames > 0;

    char err[2048];
    bool bad = false;
    sw_viewer *v = sw_viewer_open(&d, err, sizeof err, &bad);
    if (!v) {
        fprintf(stderr, "swarmlet view: %s\n", err);
        return bad ? 2 : 1;
    }
    int rc = 0;
    if (ticks > 0 && sw_viewer_step(v, ticks) != SW_OK) {
        /* Still show where it stopped, but say it failed (exit status 1). */
        fprintf(stderr, "swarmlet view: %s\n", sw_viewer_message(v));
        rc = 1;
    }
    if (zoom > 0) {
        SDL_Rect wr = sw_viewer_world_rect(v);
        sw_world *w = sw_sim_world(v->sim);
        v->zoom = zoom;
        v->camx = sw_world_width(w) / 2.0 - wr.w / 2.0 / zoom;
        v->camy = sw_world_height(w) / 2.0 - wr.h / 2.0 / zoom;
        v->fit_mode = false;
    }
    if (has_inspect) {
        /* A click at the world point, as the user would make it. */
        float sx, sy;
        sw_viewer_world_to_screen(v, ix, iy, &sx, &sy);
        SDL_Event down = {0}, up = {0};
        down.type = SDL_MOUSEBUTTONDOWN;
        down.button.button = SDL_BUTTON_LEFT;
        down.button.x = (int)sx;
        down.button.y = (int)sy;
        up = down;
        up.type = SDL_MOUSEBUTTONUP;
        sw_viewer_handle(v, &down);
        sw_viewer_handle(v, &up);
        v->follow = follow && v->sel;
    }
    for (const char *k = keys; k && *k; k++) {
        /* As a person would type them: a key press, and the text it types. */
        SDL_Event ev = {0};
        ev.type = SDL_KEYDOWN;
        char c = *k;
        ev.key.keysym.sym = c == '>' ? SDLK_RIGHT : c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
        ev.key.keysym.mod = c >= 'A' && c <= 'Z' ? KMOD_LSHIFT : KMOD_NONE;
        if (c == '\n') ev.key.keysym.sym = SDLK_RETURN;
        if (c != '?') sw_viewer_handle(v, &ev);
        else {
            SDL_Event text = {0};
            text.type = SDL_TEXTINPUT;
            text.text.text[0] = '?';
            sw_viewer_handle(v, &text);
        }
    }
    if (bench_frames > 0) {
        rc |= bench(v, bench_frames);
    } else if (frames > 0) {
        v->playing = play;
        for (int64_t i = 0; i < frames && sw_viewer_poll(v); i++) sw_viewer_frame(v);
        sw__viewer_settle(v);
        if (shot && sw_viewer_screenshot(v, shot, err, sizeof err) != SW_OK) {
            fprintf(stderr, "swarmlet view: %s\n", err);
            rc = 1;
        }
        printf("%s after %lld frames at tick %llu\n", shot ? shot : "stopped", (long long)frames,
               (unsigned long long)sw_sim_now(v->sim));
    } else if (shot) {
        if (sw_viewer_screenshot(v, shot, err, sizeof err) != SW_OK) {
            fprintf(stderr, "swarmlet view: %s\n", err);
            rc = 1;
        } else {
            printf("wrote %s (tick %llu)\n", shot, (unsigned long long)sw_sim_now(v->sim));
            if (has_inspect) printf("%s", sw_viewer_inspector_text(v));
        }
    } else {
        v->playing = play;
        SDL_RendererInfo info;
        bool vsync = SDL_GetRendererInfo(v->ren, &info) == 0 && (info.flags & SDL_RENDERER_PRESENTVSYNC);
        while (sw_viewer_poll(v)) {
            uint64_t t0 = SDL_GetTicks64();
            sw_viewer_frame(v);
            /* Without vsync, pace the loop at about 60 frames a second rather
             * than spin a core drawing frames nobody sees. */
            uint64_t dt = SDL_GetTicks64() - t0;
            if (!vsync && dt < 16) SDL_Delay((Uint32)(16 - dt));
        }
    }
    sw_viewer_close(v);
    return rc;
}
