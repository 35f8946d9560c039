/* Unit tests for the lab's probe pacing (lab_probe_pick): processes that wait out timeouts
 * start first but never hold more than their share of the slots while work is left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lab/lab_int.h"

/* director-pool grown to 64 hosts, in scenario order: 8 reverse proxies, 16
 * internal clients (each probes the blocked clients-edge rule), 16 Directors,
 * 16 Front Ends, 8 Edges */
#define NJOBS 64
static void
pool64(bool *waits)
{
	for (size_t i = 0; i < NJOBS; i++)
		waits[i] = i >= 8 && i < 24;
}

static void
test_first_slots(void **state)
{
	bool waits[NJOBS], started[NJOBS] = {false};
	size_t waiting = 0;
	(void)state;

	pool64(waits);
	/* 16 slots, at most 8 waiting: cl01-08 first, then rp01-08 */
	for (size_t n = 0; n < 16; n++) {
		size_t j = lab_probe_pick(waits, started, NJOBS, waiting, 8);
		assert_int_equal(j, n < 8 ? 8 + n : n - 8);
		started[j] = true;
		waiting += waits[j];
	}
	assert_int_equal(waiting, 8);
	/* a reverse proxy's process ends: its slot goes to dir01, not to cl09 */
	assert_int_equal(lab_probe_pick(waits, started, NJOBS, waiting, 8), 24);
	/* a client's process ends: cl09 takes its slot */
	assert_int_equal(lab_probe_pick(waits, started, NJOBS, waiting - 1, 8), 16);
}

static void
test_only_waiting_left(void **state)
{
	bool waits[NJOBS], started[NJOBS];
	(void)state;

	pool64(waits);
	for (size_t i = 0; i < NJOBS; i++)
		started[i] = !waits[i] || i < 20;
	/* nothing else to do: the waiting ones start beyond their share */
	assert_int_equal(lab_probe_pick(waits, started, NJOBS, 8, 8), 20);
	assert_int_equal(lab_probe_pick(waits, started, NJOBS, 100, 8), 20);
	for (size_t i = 0; i < NJOBS; i++)
		started[i] = true;
	assert_int_equal(lab_probe_pick(waits, started, NJOBS, 0, 8), NJOBS);
	assert_int_equal(lab_probe_pick(waits, started, 0, 0, 8), 0);
}

static void
test_no_waiting_jobs(void **state)
{
	bool waits[NJOBS] = {false}, started[NJOBS] = {false};
	(void)state;

	/* without blocked paths the order is the scenario's */
	for (size_t n = 0; n < NJOBS; n++) {
		assert_int_equal(lab_probe_pick(waits, started, NJOBS, 0, 8), n);
		started[n] = true;
	}
	assert_int_equal(lab_probe_pick(waits, started, NJOBS, 0, 8), NJOBS);
}

/* A whole run, one process ending per step (the oldest): while jobs that do
 * not wait are left, never more than the cap of waiting ones run. */
static void
test_cap_holds(void **state)
{
	bool waits[NJOBS], started[NJOBS] = {false}, done[NJOBS] = {false};
	size_t order[NJOBS], nstarted = 0, oldest = 0;
	(void)state;

	pool64(waits);
	while (nstarted < NJOBS) {
		size_t running = 0, waiting = 0, others_left = 0;

		for (size_t i = 0; i < nstarted; i++)
			if (!done[order[i]]) {
				running++;
				waiting += waits[order[i]];
			}
		for (size_t i = 0; i < NJOBS; i++)
			others_left += !started[i] && !waits[i];
		if (others_left > 0)
			assert_true(waiting <= 8);
		if (running == 16) {
			done[order[oldest++]] = true;
			continue;
		}
		order[nstarted] = lab_probe_pick(waits, started, NJOBS, waiting, 8);
		assert_true(order[nstarted] < NJOBS);
		assert_false(started[order[nstarted]]);
		started[order[nstarted++]] = true;
	}
	/* the 16 waiting jobs all start within the first 40 */
	for (size_t i = 40; i < NJOBS; i++)
		assert_false(waits[order[i]]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_slots),
	    cmocka_unit_test(test_only_waiting_left),
	    cmocka_unit_test(test_no_waiting_jobs),
	    cmocka_unit_test(test_cap_holds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
