/* File uploads inside the hub: the record of active uploads (hub.h declares the public calls). */
#ifndef HUB_UPLOADS_H
#define HUB_UPLOADS_H

struct hub_uploads;

/* NULL is fine. */
void hub_uploads_free(struct hub_uploads *u);

#endif
