/* Device file uploads: every interval a device asks for a SAS URI, transfers the file over its link for size / bandwidth of virtual time, then notifies success or failure.
 *
 * Only groups with an "uploads" behaviour draw anything here, so scenarios
 * without it keep their trace hashes.  Per upload the device draws, in this
 * order: the next gap, the file size, then at the end of the transfer
 * whether it reports a failure and whether it notifies at all.  A device
 * that is offline when its upload is due skips it (upload.skipped_offline);
 * one that goes offline during the transfer loses it (upload.lost_offline).
 */
#include "fleet_internal.h"

#include <stdlib.h>
#include <string.h>

struct fleet_upload {
    uint32_t dev;
    uint32_t next_free;
    uint64_t size;
    sim_time_t started;
    bool success;          /* what the device notifies */
    char correlation_id[HUB_UPLOAD_ID_CAP];
    char blob_name[HUB_UPLOAD_BLOB_CAP];
};

static const scn_uploads_t *uploads_of(struct fleet *f, uint32_t dev)
{
    return &f->s->groups[f->devices[dev].group].uploads;
}

static uint32_t upload_alloc(struct fleet *f)
{
    if (f->uploads_free == NO_FREE) {
        uint32_t cap = f->uploads_cap ? f->uploads_cap * 2 : 64;
        struct fleet_upload *n = realloc(f->uploads, cap * sizeof *n);
        if (!n)
            return NO_FREE;
        for (uint32_t i = cap; i-- > f->uploads_cap;) {
            n[i].next_free = f->uploads_free;
            f->uploads_free = i;
        }
        f->uploads = n;
        f->uploads_cap = cap;
    }
    uint32_t slot = f->uploads_free;
    f->uploads_free = f->uploads[slot].next_free;
    return slot;
}

static void upload_release(struct fleet *f, uint32_t slot)
{
    f->uploads[slot].next_free = f->uploads_free;
    f->uploads_free = slot;
}

static void on_upload(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t dev = (uint32_t)(arg >> 32), seq = (uint32_t)arg;
    fleet_device_t *d = &f->devices[dev];
    const scn_uploads_t *u = uploads_of(f, dev);
    sim_time_t gap = scn_dist_draw(&u->interval, &d->rng);
    uint64_t size = scn_dist_draw(&u->file_size, &d->rng);
    sim_kernel_after(f->k, gap ? gap : SIM_MS, SIM_PRIO_DEVICE, f->h_upload, fleet_ev_arg(dev, seq + 1), NULL);
    if (d->state != DEV_ONLINE) {
        fleet_count(f, "upload.skipped_offline", 1);
        return;
    }
    if (!f->port->upload_start || !f->port->upload_notify) {
        fleet_count(f, "upload.unsupported", 1);
        return;
    }
    uint32_t slot = upload_alloc(f);
    if (slot == NO_FREE) {
        fleet_count(f, "fleet.out_of_memory", 1);
        return;
    }
    struct fleet_upload *up = &f->uploads[slot];
    up->dev = dev;
    up->size = size;
    up->started = sim_kernel_now(f->k);
    up->correlation_id[0] = up->blob_name[0] = 0;
    char id[HUB_CONFIG_ID_MAX + 1], blob[48];
    snprintf(blob, sizeof blob, "upload-%u.bin", seq);
    fleet_count(f, "upload.requested", 1);
    f->port->upload_start(f->port_ctx, dev, fleet_device_id(f, dev, id, sizeof id), blob, slot);
}

void fleet_port_upload_started(struct fleet *f, uint32_t dev, uint64_t tag, fleet_port_result_t r,
                               const char *correlation_id, const char *blob_name)
{
    uint32_t slot = (uint32_t)tag;
    if (r.code != 0) {
        char code[16];
        f->errors++;
        fleet_countf(f, 1, "upload.start_failed.%s", fleet_code_text(r.code, code, sizeof code));
        upload_release(f, slot);
        return;
    }
    struct fleet_upload *up = &f->uploads[slot];
    snprintf(up->correlation_id, sizeof up->correlation_id, "%s", correlation_id ? correlation_id : "");
    snprintf(up->blob_name, sizeof up->blob_name, "%s", blob_name ? blob_name : "");
    fleet_count(f, "upload.started", 1);
    const scn_uploads_t *u = uploads_of(f, dev);
    /* size / bandwidth seconds, in ns, without overflowing for large files */
    sim_time_t transfer = (sim_time_t)((double)up->size / (double)u->bandwidth * (double)SIM_SEC);
    sim_kernel_after(f->k, transfer, SIM_PRIO_DEVICE, f->h_upload_done,
                     (uint64_t)slot << 32 | f->devices[dev].epoch, NULL);
}

static void on_upload_done(sim_kernel_t *k, void *ctx, uint64_t arg)
{
    (void)k;
    struct fleet *f = ctx;
    uint32_t slot = (uint32_t)(arg >> 32), epoch = (uint32_t)arg;
    struct fleet_upload *up = &f->uploads[slot];
    uint32_t dev = up->dev;
    fleet_device_t *d = &f->devices[dev];
    const scn_uploads_t *u = uploads_of(f, dev);
    double u_fail = sim_rng_unit(&d->rng), u_silent = sim_rng_unit(&d->rng);
    if (d->epoch != epoch || d->state != DEV_ONLINE) {
        fleet_count(f, "upload.lost_offline", 1); /* the link went down mid-transfer; the SAS will expire */
        upload_release(f, slot);
        return;
    }
    if (u_silent < u->p_no_notify) {
        fleet_count(f, "upload.not_notified", 1);
        upload_release(f, slot);
        return;
    }
    bool success = u_fail >= u->p_failure;
    up->success = success;
    char id[HUB_CONFIG_ID_MAX + 1];
    f->port->upload_notify(f->port_ctx, dev, fleet_device_id(f, dev, id, sizeof id), up->correlation_id,
                           up->blob_name, up->size, success, success ? 200 : 500, slot);
}

void fleet_port_upload_notified(struct fleet *f, uint32_t dev, uint64_t tag, fleet_port_result_t r)
{
    (void)dev;
    uint32_t slot = (uint32_t)tag;
    if (r.code != 0) {
        char code[16];
        f->errors++;
        fleet_countf(f, 1, "upload.notify_failed.%s", fleet_code_text(r.code, code, sizeof code));
    } else if (f->uploads[slot].success) {
        fleet_count(f, "upload.completed", 1);
        f->upload_completed++;
        report_hist_record(f->upload_duration, sim_kernel_now(f->k) - f->uploads[slot].started);
    } else {
        fleet_count(f, "upload.failed_reported", 1); /* the device notified isSuccess false */
    }
    upload_release(f, slot);
}

hs_err_t fleet_uploads_init(struct fleet *f)
{
    f->uploads_free = NO_FREE;
    for (size_t g = 0; g < f->s->ngroups; g++)
        if (f->s->groups[g].uploads.enabled) {
            f->h_upload = sim_kernel_register(f->k, on_upload, f);
            f->h_upload_done = sim_kernel_register(f->k, on_upload_done, f);
            return report_result_hist(f->result, "upload.duration", &f->upload_duration);
        }
    return HS_EOK;
}

void fleet_uploads_start(struct fleet *f, uint32_t dev, sim_time_t first)
{
    const scn_uploads_t *u = uploads_of(f, dev);
    sim_kernel_at(f->k, first + scn_dist_draw(&u->interval, &f->devices[dev].rng) + SIM_MS, SIM_PRIO_DEVICE,
                  f->h_upload, fleet_ev_arg(dev, 0), NULL);
}

/* upload.notification_gap: completed uploads without a file notification
 * (0 when the hub's notifications are on and it keeps its books). */
void fleet_uploads_finish(struct fleet *f)
{
    if (f->upload_duration)
        fleet_count(f, "upload.notification_gap", (int64_t)(f->upload_completed - f->upload_notifications));
}

void fleet_uploads_free(struct fleet *f)
{
    free(f->uploads);
    f->uploads = NULL;
}
