#include "common.h"
#include "clock.h"

#include <stdatomic.h>

static atomic_bool test_mode;
static _Atomic int64_t test_now;

int64_t clock_now_ms(void)
{
	struct timespec ts;

	if (atomic_load(&test_mode))
		return atomic_load(&test_now);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void clock_test_enable(int64_t start_ms)
{
	atomic_store(&test_now, start_ms);
	atomic_store(&test_mode, true);
}

bool clock_is_test(void)
{
	return atomic_load(&test_mode);
}

void clock_test_set(int64_t ms)
{
	atomic_store(&test_now, ms);
}
