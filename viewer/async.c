/* async.c - stepping a slow world on a worker thread, so the window stays
 * responsive while a tick of a million agents is computed.
 *
 * The engine is single-threaded, so the rule is exclusion, not locking:
 * while the worker steps (v->busy), the window thread calls nothing of the
 * engine. It draws the last full frame (kept in a render-target texture)
 * moved and scaled to wherever the user pans and zooms, the panel as it was,
 * and the overlays; it handles the camera, the help and pause at once; and
 * any event that needs the engine (a step, a click to inspect, save, load,
 * reset) first waits for the worker to finish its batch (sw__viewer_settle).
 * The worker writes only its own job fields, published by an atomic flag.
 *
 * Small worlds never come here: the viewer switches to the worker only once
 * a single tick has taken longer than SW_VIEWER_ASYNC_MS (default 25 ms). */
#include "app_int.h"

#include <stdlib.h>

static int worker_main(void *arg) {
    sw_viewer *v = arg;
    int rc = SW_OK;
    int64_t i = 0;
    for (; i < v->job_n; i++)
        if ((rc = sw_sim_step(v->sim)) != SW_OK) {
            i++;
            break;
        }
    v->job_rc = rc;
    v->job_stepped = i;
    SDL_AtomicSet(&v->job_done, 1);
    return 0;
}

void sw__viewer_async_start(sw_viewer *v, int64_t n) {
    v->job_n = n;
    v->job_rc = SW_OK;
    v->job_stepped = 0;
    v->job_t0 = SDL_GetTicks64();
    SDL_AtomicSet(&v->job_done, 0);
    v->busy = true;
    v->worker = SDL_CreateThread(worker_main, "sw-step", v);
    if (!v->worker) worker_main(v); /* no threads: step here */
}

bool sw__viewer_async_done(sw_viewer *v) { return !v->busy || SDL_AtomicGet(&v->job_done) != 0; }

void sw__viewer_settle(sw_viewer *v) {
    if (!v->busy) return;
    if (v->worker) SDL_WaitThread(v->worker, NULL);
    v->worker = NULL;
    v->busy = false;
    v->last_rc = v->job_rc;
    if (v->job_rc != SW_OK) {
        v->playing = false;
        const char *rep = sw_sched_report(sw_world_sched(sw_sim_world(v->sim)));
        sw__viewer_say(v, "stopped at tick %llu: %s%s%.200s", (unsigned long long)sw_sim_now(v->sim),
                       sw_status_name(v->job_rc), rep && *rep ? ": " : "", rep ? rep : "");
    }
    sw__viewer_after_steps(v);
}

static bool ensure_rt(sw_viewer *v) {
    if (v->frame_rt && v->rt_w == v->w && v->rt_h == v->h) return true;
    if (v->frame_rt) SDL_DestroyTexture(v->frame_rt);
    v->frame_rt = SDL_CreateTexture(v->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_TARGET, v->w, v->h);
    if (!v->frame_rt) return false;
    SDL_SetTextureBlendMode(v->frame_rt, SDL_BLENDMODE_NONE);
    v->rt_w = v->w;
    v->rt_h = v->h;
    return true;
}

bool sw__viewer_rt_begin(sw_viewer *v) {
    if (!v->async || !ensure_rt(v)) return false;
    return SDL_SetRenderTarget(v->ren, v->frame_rt) == 0;
}

void sw__viewer_rt_end(sw_viewer *v) {
    SDL_SetRenderTarget(v->ren, NULL);
    SDL_RenderCopy(v->ren, v->frame_rt, NULL, NULL);
    v->rt_zoom = v->zoom;
    v->rt_camx = v->camx;
    v->rt_camy = v->camy;
}

void sw__viewer_render_cached(sw_viewer *v) {
    SDL_SetRenderDrawColor(v->ren, 0x15, 0x16, 0x1a, 255);
    SDL_RenderClear(v->ren);
    if (!v->frame_rt) return;
    SDL_Rect wr = sw_viewer_world_rect(v), pr = sw_viewer_panel_rect(v);
    /* The old view of the world, where its corner now lands and as large as
     * the zoom has made it; what was outside it stays background until the
     * tick is done. */
    if (wr.w <= v->rt_w && wr.h <= v->rt_h) {
        double k = v->zoom / v->rt_zoom;
        SDL_FRect dst = {(float)((v->rt_camx - v->camx) * v->zoom),
                         (float)((v->rt_camy - v->camy) * v->zoom), (float)(wr.w * k), (float)(wr.h * k)};
        SDL_RenderSetClipRect(v->ren, &wr);
        SDL_RenderCopyF(v->ren, v->frame_rt, &wr, &dst);
        SDL_RenderSetClipRect(v->ren, NULL);
    }
    if (pr.w > 0 && pr.x + pr.w <= v->rt_w && pr.h <= v->rt_h)
        SDL_RenderCopy(v->ren, v->frame_rt, &pr, &pr);
    sw__viewer_draw_overlays(v);
}

void sw__viewer_async_fini(sw_viewer *v) {
    sw__viewer_settle(v);
    if (v->frame_rt) SDL_DestroyTexture(v->frame_rt);
    v->frame_rt = NULL;
}
