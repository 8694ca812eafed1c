// SPDX-License-Identifier: GPL-2.0-only
/*
 * sleepers.c - `sleepers N` starts N threads that sleep until the process is killed,
 * prints "ready N" once all exist, then sleeps itself. Threads, not processes: 10,000
 * busybox sleeps would not fit the guest's memory; a thread costs its kernel stack and
 * a small user stack.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	pthread_t t;
	long i, n;

	if (argc != 2 || (n = strtol(argv[1], NULL, 10)) < 0) {
		fprintf(stderr, "usage: sleepers N\n");
		return 2;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 0; i < n; i++) {
		if (pthread_create(&t, &attr, sleeper, NULL)) {
			fprintf(stderr, "sleepers: thread %ld of %ld could not be created\n", i, n);
			return 1;
		}
	}
	printf("ready %ld\n", n);
	fflush(stdout);
	for (;;)
		pause();
}
