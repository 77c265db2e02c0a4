/* SPDX-License-Identifier: MIT */
#include <lispms/rcu.h>

#ifdef LISPMS_RCU_TSAN
/* A synthetic sync object: read-unlock releases it, a grace period acquires. */
char lrcu_tsan_gp;
#endif

/* Name of the flavour built in, for the build summary and `lispmsctl status`. */
const char *lrcu_flavor_name(void);

const char *lrcu_flavor_name(void)
{
	return LISPMS_RCU_NAME;
}
