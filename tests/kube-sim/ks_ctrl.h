/*
 * ks_ctrl.h — the simulated deployment controller: after a deployment's
 * spec changes (generation bump), status steps toward spec on a timer,
 * each step one MODIFIED event, so "desired" and "current" differ for a
 * while as on a real cluster.
 */
#ifndef KS_CTRL_H
#define KS_CTRL_H

struct ks_ctrl;
struct ks_event;
struct ks_server;

struct ks_ctrl *ks_ctrl_new(struct ks_server *, long, long);
void ks_ctrl_free(struct ks_ctrl *);
void ks_ctrl_notify(struct ks_ctrl *, const struct ks_event *);
void ks_ctrl_set(struct ks_ctrl *, int, long, long);
int ks_ctrl_paused(const struct ks_ctrl *);
long ks_ctrl_delay(const struct ks_ctrl *);
long ks_ctrl_step(const struct ks_ctrl *);

#endif /* KS_CTRL_H */
