/*
 * clock.h: the one clock every timer and timestamp reads.
 *
 * Real time by default. `itsup serve --test-clock` switches to a clock that
 * only moves when told (clock_test_set), so tests of timers never sleep.
 * Instants are int64 UTC milliseconds (DESIGN.md section 6).
 */
#ifndef ITSUP_CLOCK_H
#define ITSUP_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

int64_t clock_now_ms(void);
/* Monotonic nanoseconds, for durations (latency), never for instants. */
int64_t clock_mono_ns(void);

void clock_test_enable(int64_t start_ms);
bool clock_is_test(void);
void clock_test_set(int64_t ms);

#endif
