/* A finished job's JSON (the job document and its per-device records, as the hub keeps and serves them) read into the port's job view: one mapping for every port. */
#include "sim/fleet/fleet_port.h"

#include <stdlib.h>

#include "sim/hub/hub_errors.h"
#include "sim/simtime.h"

/* Seconds between two ISO-8601 texts; -1 when either does not parse. */
static double seconds_between(const char *from, const char *to)
{
    int64_t a, b;
    uint32_t na, nb;
    if (!from || !to || sim_utc_parse(from, &a, &na) != HS_EOK || sim_utc_parse(to, &b, &nb) != HS_EOK)
        return -1;
    return (double)(b - a) + ((double)nb - (double)na) / 1e9;
}

fleet_port_job_device_t *fleet_port_job_read(fleet_port_job_t *job, const json_t *doc, const json_t *records)
{
    job->run_s = seconds_between(json_string_value(json_object_get(doc, "startTime")),
                                 json_string_value(json_object_get(doc, "endTime")));
    size_t n = json_array_size(records);
    fleet_port_job_device_t *devs = calloc(n ? n : 1, sizeof *devs);
    job->devices = devs;
    job->ndevices = 0;
    for (size_t i = 0; devs && i < n; i++) {
        json_t *r = json_array_get(records, i);
        fleet_port_job_device_t *d = &devs[i];
        d->status = json_string_value(json_object_get(r, "status"));
        if (!d->status)
            d->status = "unknown";
        d->error = json_string_value(json_object_get(json_object_get(r, "error"), "code"));
        if (d->error) {
            int code = hub_error_by_name(d->error);
            d->http_status = code >= 0 ? hub_error_info((hub_err_t)code)->http_status : 0;
        }
        json_t *resp = json_object_get(json_object_get(r, "outcome"), "deviceMethodResponse");
        if (json_is_object(resp)) {
            d->http_status = 200;
            d->device_status = (int)json_integer_value(json_object_get(resp, "status"));
        }
        job->ndevices++;
    }
    return devs;
}
