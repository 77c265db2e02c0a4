/* SPDX-License-Identifier: MIT */
/* The worker loop: epoll, wake, tick, timers, reload generations and limits
 * (net_loop.h); the event sources live in udp.c, tcp.c, ..., and worker.c
 * (net_worker_new) puts a worker together from this loop and them. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "net_loop.h"

int net_loop_add(struct net_worker *w, int fd, uint32_t events, struct net_ev *ev)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) == 0 ? LISPMS_EOK : -errno;
}

int net_loop_mod(struct net_worker *w, int fd, uint32_t events, struct net_ev *ev)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };
	return epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &e) == 0 ? LISPMS_EOK : -errno;
}

void net_loop_del(struct net_worker *w, int fd)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void net_loop_register(struct net_worker *w, struct net_source *s)
{
	struct net_source **pp = &w->sources; /* in registration order */
	while (*pp != NULL)
		pp = &(*pp)->next;
	s->next = NULL;
	*pp = s;
}

struct net_worker_limits net_limits_resolve(const struct net_worker_limits *l)
{
	return (struct net_worker_limits){
		.keepalive_s = l->keepalive_s ? l->keepalive_s : 10,
		.user_timeout_s = l->user_timeout_s ? l->user_timeout_s : 30,
		.max_conns = l->max_conns,
		.output_limit = l->output_limit ? l->output_limit : (size_t)4 << 20,
	};
}

unsigned net_loop_post(struct net_worker *w)
{
	unsigned gen = atomic_fetch_add_explicit(&w->ctl_gen, 1, memory_order_release) + 1;
	net_worker_wake(w);
	return gen;
}

unsigned net_worker_set_limits(struct net_worker *w, const struct net_worker_limits *l)
{
	pthread_mutex_lock(&w->ctl_lock);
	w->next = *l;
	pthread_mutex_unlock(&w->ctl_lock);
	return net_loop_post(w);
}

bool net_worker_wait(struct net_worker *w, unsigned gen, unsigned timeout_ms)
{
	uint64_t until = mtime_now_ns() + (uint64_t)timeout_ms * LISPMS_NS_PER_MSEC;
	while ((int)(atomic_load_explicit(&w->applied_gen, memory_order_acquire) - gen) < 0) {
		if (mtime_now_ns() >= until)
			return false;
		usleep(1000);
	}
	return true;
}

size_t net_worker_conns(const struct net_worker *w)
{
	return w->nconns;
}

static void wake_event(struct net_worker *w, struct net_ev *ev, uint32_t events)
{
	(void)ev;
	(void)events;
	uint64_t v;
	while (read(w->wakefd, &v, sizeof(v)) > 0)
		;
}

struct net_worker *net_loop_new(const struct net_worker_conf *conf, char *err, size_t errlen)
{
	if (conf->naddrs == 0 || conf->naddrs > NET_MAX_ADDRS) {
		if (err)
			snprintf(err, errlen, "need 1 to %d listen addresses", NET_MAX_ADDRS);
		return NULL;
	}
	struct net_worker *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->epfd = w->wakefd = -1;
	w->port = conf->port;
	w->cpu = conf->cpu;
	w->tick = conf->tick;
	w->tick_arg = conf->tick_arg;
	w->next = (struct net_worker_limits){ conf->keepalive_s, conf->user_timeout_s,
					      conf->max_conns, conf->output_limit };
	w->lim = net_limits_resolve(&w->next);
	pthread_mutex_init(&w->ctl_lock, NULL);
	w->naddrs = conf->naddrs;
	for (unsigned i = 0; i < conf->naddrs; i++) {
		w->addrs[i] = conf->addrs[i];
		saddr_set_port(&w->addrs[i], conf->port);
	}
	w->wake_ev.fn = wake_event;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epfd < 0 || w->wakefd < 0) {
		if (err)
			snprintf(err, errlen, "cannot allocate worker resources (%s)",
				 err_str(-errno));
		goto out_free;
	}
	net_loop_add(w, w->wakefd, EPOLLIN, &w->wake_ev);
	return w;

out_free:
	net_worker_free(w);
	return NULL;
}

/* Worker thread: take what the control thread left (limits, sources' state). */
static void apply_ctl(struct net_worker *w, unsigned gen)
{
	pthread_mutex_lock(&w->ctl_lock);
	struct net_worker_limits l = w->next;
	pthread_mutex_unlock(&w->ctl_lock);
	struct net_worker_limits old = w->lim;
	w->lim = net_limits_resolve(&l);
	for (struct net_source *s = w->sources; s != NULL; s = s->next)
		if (s->ops->apply != NULL)
			s->ops->apply(w, s, &old);
	atomic_store_explicit(&w->applied_gen, gen, memory_order_release);
}

static void *worker_main(void *arg)
{
	struct net_worker *w = arg;
	struct epoll_event evs[64];
	uint64_t next_tick = 0, next_timer = UINT64_MAX;
	while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
		uint64_t now = mtime_now_ns();
		uint64_t due = next_timer;
		if (w->tick != NULL && next_tick < due)
			due = next_tick;
		uint64_t left = due > now ? due - now : 0;
		int timeout = left >= 1000 * LISPMS_NS_PER_MSEC
				  ? 1000
				  : (int)((left + LISPMS_NS_PER_MSEC - 1) / LISPMS_NS_PER_MSEC);
		lrcu_offline();
		int n = epoll_wait(w->epfd, evs, 64, timeout);
		lrcu_online();
		unsigned gen = atomic_load_explicit(&w->ctl_gen, memory_order_acquire);
		if (gen != w->seen_gen) { /* before the events: a closed listener's are dropped */
			w->seen_gen = gen;
			apply_ctl(w, gen);
		}
		bool woken = false;
		w->batching = true;
		for (int i = 0; i < n; i++) {
			struct net_ev *e = evs[i].data.ptr;
			woken |= e == &w->wake_ev;
			e->fn(w, e, evs[i].events);
		}
		now = mtime_now_ns();
		if (w->tick != NULL && (woken || now >= next_tick))
			next_tick = now + w->run_tick(w, now);
		next_timer = UINT64_MAX;
		for (struct net_source *s = w->sources; s != NULL; s = s->next) {
			if (s->ops->timer == NULL)
				continue;
			uint64_t in = s->ops->timer(w, s, now);
			if (in != UINT64_MAX && now + in < next_timer)
				next_timer = now + in;
		}
		w->batching = false;
		for (struct net_source *s = w->sources; s != NULL; s = s->next)
			if (s->ops->round_end != NULL)
				s->ops->round_end(w, s);
		lrcu_quiescent();
	}
	for (struct net_source *s = w->sources; s != NULL; s = s->next)
		if (s->ops->stop != NULL)
			s->ops->stop(w, s);
	return NULL;
}

void net_worker_wake(struct net_worker *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->wakefd, &one, sizeof(one));
	(void)r;
}

int net_worker_start(struct net_worker *w, const char *name)
{
	w->thread = thread_spawn(name, w->cpu, worker_main, w);
	return w->thread ? LISPMS_EOK : LISPMS_ENOMEM;
}

void net_worker_stop(struct net_worker *w)
{
	if (w == NULL || w->thread == NULL)
		return;
	atomic_store_explicit(&w->stop, true, memory_order_release);
	net_worker_wake(w);
	thread_join(w->thread);
	w->thread = NULL;
}

void net_worker_free(struct net_worker *w)
{
	if (w == NULL)
		return;
	net_worker_stop(w);
	while (w->sources != NULL) {
		struct net_source *s = w->sources;
		w->sources = s->next;
		if (s->ops->stop != NULL) /* idempotent; needed when it never ran */
			s->ops->stop(w, s);
		if (s->ops->free != NULL)
			s->ops->free(w, s);
	}
	pthread_mutex_destroy(&w->ctl_lock);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
	free(w);
}
