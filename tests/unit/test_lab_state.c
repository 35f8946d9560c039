/* Unit tests for the lab's state files: what a lab records round-trips, and the reader refuses
 * garbage and names the lab would never make (it decides what --cleanup deletes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/lab.h"
#include "lab/lab_int.h"

static void
test_round_trip(void **state)
{
	struct lab_state st, back;
	char err[256], *text;
	size_t len = 0;
	(void)state;

	memset(&st, 0, sizeof st);
	st.self.pid = 4242;
	st.self.start = 123456;
	st.started = 1764640000;
	snprintf(st.prefix, sizeof st.prefix, "lm4242");
	snprintf(st.boot_id, sizeof st.boot_id, "0f0e0d0c-0b0a-0908-0706-050403020100");
	snprintf(st.tmpdir, sizeof st.tmpdir, "/run/lyncmock/lab/lab-lm4242-123456.d");
	st.kept = true;
	assert_int_equal(lab_state_add_netns(&st, "lm4242-fw"), 0);
	assert_int_equal(lab_state_add_netns(&st, "lm4242-dir01.contoso"), 0);
	/* this process is alive, so it is recorded with its start time */
	assert_int_equal(lab_state_add_proc(&st, (long)getpid()), 0);
	assert_int_equal(st.nprocs, 1);
	assert_true(st.procs[0].start > 0);
	assert_int_equal(st.procs[0].start, lab_proc_start((long)getpid()));
	assert_int_equal(lab_proc_start(0), 0);
	assert_int_equal(lab_proc_start(-5), 0);

	assert_non_null(text = lab_state_render(&st, &len));
	assert_int_equal(lab_state_parse(text, len, &back, err, sizeof err), 0);
	assert_int_equal(back.self.pid, 4242);
	assert_int_equal(back.self.start, 123456);
	assert_int_equal(back.started, 1764640000);
	assert_string_equal(back.prefix, "lm4242");
	assert_string_equal(back.tmpdir, st.tmpdir);
	assert_string_equal(back.boot_id, st.boot_id);
	assert_true(back.kept);
	assert_int_equal(back.nnetns, 2);
	assert_string_equal(back.netns[1], "lm4242-dir01.contoso");
	assert_int_equal(back.nprocs, 1);
	assert_int_equal(back.procs[0].pid, (long)getpid());
	free(text);
	lab_state_free(&st);
	lab_state_free(&back);
}

static void
test_garbage(void **state)
{
	static const char *bad[] = {
	    "",
	    "null",
	    "[]",
	    "{",
	    "\xff\xfe{}",
	    "{\"lyncmock_lab_state\":2}",
	    "{\"lyncmock_lab_state\":\"1\"}",
#define OK_HEAD "{\"lyncmock_lab_state\":1,\"boot_id\":\"\",\"started\":0,\"tmpdir\":\"\","
	    /* pid and start time */
	    OK_HEAD "\"pid\":0,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[],\"processes\":[]}",
	    OK_HEAD "\"pid\":-3,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[],\"processes\":[]}",
	    OK_HEAD "\"pid\":99999999999,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[],"
	            "\"processes\":[]}",
	    OK_HEAD "\"pid\":7,\"start_time\":0,\"prefix\":\"lm1\",\"netns\":[],\"processes\":[]}",
	    OK_HEAD
	    "\"pid\":7.5,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[],\"processes\":[]}",
	    /* prefixes the lab never makes */
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"\",\"netns\":[],\"processes\":[]}",
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"../x\",\"netns\":[],\"processes\":[]}",
	    OK_HEAD
	    "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1/..\",\"netns\":[],\"processes\":[]}",
	    /* namespace names outside the lab's prefix or with path characters */
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[\"default\"],"
	            "\"processes\":[]}",
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[\"lm1-\"],"
	            "\"processes\":[]}",
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[\"lm1-a/../b\"],"
	            "\"processes\":[]}",
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[\"lm1-a\\u0000b\"],"
	            "\"processes\":[]}",
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[\"lm12-fw\"],"
	            "\"processes\":[]}",
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[3],\"processes\":[]}",
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":{},\"processes\":[]}",
	    /* processes */
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[],\"processes\":[7]}",
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[],"
	            "\"processes\":[{\"pid\":1}]}",
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[],"
	            "\"processes\":[{\"pid\":8,\"start_time\":0}]}",
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[],"
	            "\"processes\":null}",
	    /* duplicate keys, wrong kept */
	    OK_HEAD "\"pid\":7,\"pid\":8,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[],"
	            "\"processes\":[]}",
	    OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\",\"netns\":[],\"processes\":[],"
	            "\"kept\":1}",
	};
	static const char good[] = OK_HEAD "\"pid\":7,\"start_time\":5,\"prefix\":\"lm1\","
	                                   "\"netns\":[\"lm1-fw\"],\"processes\":[{\"pid\":8,"
	                                   "\"start_time\":9}],\"future\":{\"x\":1}}";
	struct lab_state st;
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (lab_state_parse(bad[i], strlen(bad[i]), &st, err, sizeof err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
		assert_null(st.netns);
		assert_null(st.procs);
	}
	/* NUL bytes inside the text, and a text that is not a string at all */
	assert_int_equal(lab_state_parse(good, sizeof good, &st, err, sizeof err), -1);
	assert_int_equal(lab_state_parse("\0\0\0", 3, &st, err, sizeof err), -1);
	/* unknown keys are a newer lyncmock's: read what is known */
	assert_int_equal(lab_state_parse(good, strlen(good), &st, err, sizeof err), 0);
	assert_int_equal(st.nnetns, 1);
	assert_int_equal(st.nprocs, 1);
	assert_false(st.kept);
	lab_state_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
