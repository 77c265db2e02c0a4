/* SPDX-License-Identifier: MIT */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <lispms/admit.h>
#include <lispms/err.h>
#include <lispms/rcu.h>

#define CLAIMED UINT64_MAX

struct admit_key {
	uint8_t family;
	uint8_t bytes[16];
};

struct admit_entry {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	struct admit_key key;
	_Atomic uint64_t until;	  /* CLAIMED while a session holds it */
	_Atomic uint64_t session; /* the claiming session, 0 before */
};

struct admit {
	struct cds_lfht *ht;
	_Atomic size_t count;
};

static int make_key(const struct sockaddr_storage *addr, struct admit_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)addr->ss_family;
	if (addr->ss_family == AF_INET)
		memcpy(k->bytes, &((const struct sockaddr_in *)addr)->sin_addr, 4);
	else if (addr->ss_family == AF_INET6)
		memcpy(k->bytes, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
	else
		return LISPMS_EAFI;
	return LISPMS_EOK;
}

static unsigned long hash_key(const struct admit_key *k)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ k->family;
	for (unsigned i = 0; i < sizeof(k->bytes); i += 8) {
		uint64_t v;
		memcpy(&v, k->bytes + i, 8);
		h ^= v;
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	return (unsigned long)h;
}

static int match(struct cds_lfht_node *node, const void *key)
{
	const struct admit_entry *e = caa_container_of(node, struct admit_entry, node);
	return memcmp(&e->key, key, sizeof(e->key)) == 0;
}

/*
 * Explicit iteration: cds_lfht_for_each_entry() applies container_of to the
 * NULL that ends the walk, which is undefined behaviour (UBSan reports it).
 */
static struct admit_entry *entry_of(struct cds_lfht_iter *it)
{
	struct cds_lfht_node *n = cds_lfht_iter_get_node(it);
	if (n == NULL)
		return NULL;
	LRCU_TSAN_ACQUIRE(n);
	return caa_container_of(n, struct admit_entry, node);
}

static struct admit_entry *first(struct admit *a, struct cds_lfht_iter *it)
{
	cds_lfht_first(a->ht, it);
	return entry_of(it);
}

static struct admit_entry *next(struct admit *a, struct cds_lfht_iter *it)
{
	cds_lfht_next(a->ht, it);
	return entry_of(it);
}

struct admit *admit_new(void)
{
	struct admit *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->ht = cds_lfht_new_flavor(64, 64, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
				    lrcu_flavor, NULL);
	if (a->ht == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void admit_free(struct admit *a)
{
	if (a == NULL)
		return;
	struct cds_lfht_iter it;
	lrcu_read_lock();
	for (struct admit_entry *e = first(a, &it); e != NULL; e = next(a, &it))
		if (cds_lfht_del(a->ht, &e->node) == 0)
			free(e);
	lrcu_read_unlock();
	cds_lfht_destroy(a->ht, NULL);
	free(a);
}

static struct admit_entry *find(struct admit *a, const struct admit_key *k)
{
	struct cds_lfht_iter it;
	cds_lfht_lookup(a->ht, hash_key(k), match, k, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	if (n == NULL)
		return NULL;
	LRCU_TSAN_ACQUIRE(n); /* pairs with the release before cds_lfht_add_unique */
	return caa_container_of(n, struct admit_entry, node);
}

int admit_grant(struct admit *a, const struct sockaddr_storage *addr, uint64_t until_ns)
{
	struct admit_key k;
	int ret = make_key(addr, &k);
	if (ret != LISPMS_EOK)
		return ret;
	lrcu_read_lock();
	struct admit_entry *e = find(a, &k);
	if (e != NULL) {
		/* a repeated grant only moves the expiry; a claimed one stays claimed */
		uint64_t cur = atomic_load(&e->until);
		while (cur != CLAIMED && cur < until_ns &&
		       !atomic_compare_exchange_weak(&e->until, &cur, until_ns))
			;
		lrcu_read_unlock();
		return LISPMS_EOK;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		lrcu_read_unlock();
		return LISPMS_ENOMEM;
	}
	e->key = k;
	atomic_init(&e->until, until_ns);
	cds_lfht_node_init(&e->node);
	LRCU_TSAN_RELEASE(&e->node);
	struct cds_lfht_node *got = cds_lfht_add_unique(a->ht, hash_key(&k), match, &k, &e->node);
	if (got != &e->node) {
		/* another thread granted the same address first: extend theirs */
		LRCU_TSAN_ACQUIRE(got);
		struct admit_entry *other = caa_container_of(got, struct admit_entry, node);
		uint64_t cur = atomic_load(&other->until);
		while (cur != CLAIMED && cur < until_ns &&
		       !atomic_compare_exchange_weak(&other->until, &cur, until_ns))
			;
		free(e);
	} else {
		atomic_fetch_add(&a->count, 1);
	}
	lrcu_read_unlock();
	return LISPMS_EOK;
}

bool admit_check(struct admit *a, const struct sockaddr_storage *addr, uint64_t now_ns)
{
	struct admit_key k;
	if (make_key(addr, &k) != LISPMS_EOK)
		return false;
	lrcu_read_lock();
	struct admit_entry *e = find(a, &k);
	uint64_t until = e ? atomic_load(&e->until) : 0;
	lrcu_read_unlock();
	return until != CLAIMED && until > now_ns;
}

bool admit_claim(struct admit *a, const struct sockaddr_storage *addr, uint64_t now_ns,
		 uint64_t session)
{
	struct admit_key k;
	if (make_key(addr, &k) != LISPMS_EOK)
		return false;
	bool ok = false;
	lrcu_read_lock();
	struct admit_entry *e = find(a, &k);
	if (e != NULL) {
		uint64_t cur = atomic_load(&e->until);
		while (cur != CLAIMED && cur > now_ns) {
			if (atomic_compare_exchange_weak(&e->until, &cur, CLAIMED)) {
				atomic_store(&e->session, session);
				ok = true;
				break;
			}
		}
	}
	lrcu_read_unlock();
	return ok;
}

uint64_t admit_session(struct admit *a, const struct sockaddr_storage *addr)
{
	/*
	 * No grant at all (sites without reliable transport): no lookup, for
	 * every UDP register asks. An entry being added meanwhile is found by
	 * the next register, as if this one had come a moment earlier.
	 */
	if (atomic_load_explicit(&a->count, memory_order_relaxed) == 0)
		return 0;
	struct admit_key k;
	if (make_key(addr, &k) != LISPMS_EOK)
		return 0;
	lrcu_read_lock();
	struct admit_entry *e = find(a, &k);
	uint64_t s = e && atomic_load(&e->until) == CLAIMED ? atomic_load(&e->session) : 0;
	lrcu_read_unlock();
	return s;
}

static void free_entry(struct rcu_head *head)
{
	free(caa_container_of(head, struct admit_entry, rcu));
}

static void remove_entry(struct admit *a, struct admit_entry *e)
{
	if (cds_lfht_del(a->ht, &e->node) == 0) {
		atomic_fetch_sub(&a->count, 1);
		lrcu_call(&e->rcu, free_entry);
	}
}

void admit_revoke(struct admit *a, const struct sockaddr_storage *addr)
{
	struct admit_key k;
	if (make_key(addr, &k) != LISPMS_EOK)
		return;
	lrcu_read_lock();
	struct admit_entry *e = find(a, &k);
	if (e != NULL)
		remove_entry(a, e);
	lrcu_read_unlock();
}

size_t admit_expire(struct admit *a, uint64_t now_ns)
{
	size_t n = 0;
	struct cds_lfht_iter it;
	lrcu_read_lock();
	for (struct admit_entry *e = first(a, &it); e != NULL; e = next(a, &it)) {
		uint64_t until = atomic_load(&e->until);
		if (until != CLAIMED && until <= now_ns) {
			remove_entry(a, e);
			n++;
		}
	}
	lrcu_read_unlock();
	return n;
}

size_t admit_count(struct admit *a)
{
	return atomic_load(&a->count);
}
