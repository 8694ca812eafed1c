// SPDX-License-Identifier: GPL-2.0-only
/*
 * spawn-times.c - whole-process time of a few commands, measured the same way in one run.
 *
 *   spawn-times RUNS 'LABEL' 'COMMAND ARGS...' ['LABEL' 'COMMAND ARGS...']...
 *
 * Each command is split on spaces (no quoting: the bench passes plain paths) and started
 * RUNS times with fork+execv, the commands taking turns (round-robin) so that load from
 * other processes falls on all of them alike. Per command it prints wall-clock and CPU
 * (user+system, from wait4) times in milliseconds as min/median/max, and the ratio of the
 * medians to the first command's (the floor). Standard output and error of the commands
 * go to /dev/null. A command that exits non-zero on its first run is reported and its
 * times are still shown (the differ exits 3 for "nothing changed").
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 16
#define MAX_ARGS 32

struct cmd {
	const char *label;
	char *argv[MAX_ARGS + 1];
	double *wall, *cpu;
	int first_status;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs c once; stores its wall and CPU milliseconds; returns its wait status or -1. */
static int run_once(struct cmd *c, double *wall, double *cpu)
{
	struct rusage ru;
	int status;
	double start = now_ms();
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execv(c->argv[0], c->argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	*wall = now_ms() - start;
	*cpu = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	       ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
	return status;
}

int main(int argc, char **argv)
{
	struct cmd cmds[MAX_CMDS];
	int runs, n = 0;
	double floor_wall = 0, floor_cpu = 0;

	if (argc < 4 || argc % 2 != 0 || (runs = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: spawn-times RUNS LABEL COMMAND [LABEL COMMAND]...\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc && n < MAX_CMDS; i += 2, n++) {
		struct cmd *c = &cmds[n];
		int k = 0;

		c->label = argv[i];
		for (char *tok = strtok(argv[i + 1], " "); tok && k < MAX_ARGS; tok = strtok(NULL, " "))
			c->argv[k++] = tok;
		c->argv[k] = NULL;
		c->wall = calloc(runs, sizeof(double));
		c->cpu = calloc(runs, sizeof(double));
		if (!k || !c->wall || !c->cpu) {
			fprintf(stderr, "spawn-times: bad command '%s'\n", argv[i + 1]);
			return 2;
		}
	}
	for (int r = 0; r < runs; r++)
		for (int i = 0; i < n; i++) {
			int st = run_once(&cmds[i], &cmds[i].wall[r], &cmds[i].cpu[r]);

			if (st == -1) {
				perror("spawn-times: fork/wait");
				return 1;
			}
			if (r == 0)
				cmds[i].first_status = st;
		}
	printf("%-28s %26s %26s %7s %7s\n", "", "wall ms min/median/max", "cpu ms min/median/max",
	       "wall x", "cpu x");
	for (int i = 0; i < n; i++) {
		struct cmd *c = &cmds[i];
		/* median() sorts: min and max are then the ends. */
		double mw = median(c->wall, runs), mc = median(c->cpu, runs);
		char w[64], u[64];

		if (i == 0) {
			floor_wall = mw;
			floor_cpu = mc;
		}
		snprintf(w, sizeof(w), "%.2f/%.2f/%.2f", c->wall[0], mw, c->wall[runs - 1]);
		snprintf(u, sizeof(u), "%.2f/%.2f/%.2f", c->cpu[0], mc, c->cpu[runs - 1]);
		printf("%-28s %26s %26s %7.2f %7.2f", c->label, w, u,
		       floor_wall > 0 ? mw / floor_wall : 0, floor_cpu > 0 ? mc / floor_cpu : 0);
		if (!WIFEXITED(c->first_status))
			printf("  (killed by signal %d)", WTERMSIG(c->first_status));
		else if (WEXITSTATUS(c->first_status) == 127)
			printf("  (could not start)");
		else if (WEXITSTATUS(c->first_status))
			printf("  (exit %d)", WEXITSTATUS(c->first_status));
		printf("\n");
	}
	return 0;
}
