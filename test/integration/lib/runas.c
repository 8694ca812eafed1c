// SPDX-License-Identifier: GPL-2.0-only
/*
 * runas.c - runs a command as another user in the guest (busybox has no chpst):
 * `runas UID COMMAND...` drops groups, gid and uid to UID, then execs COMMAND.
 * Built static on the host by the scenarios that need an unprivileged reader.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uid_t id;

	if (argc < 3) {
		fprintf(stderr, "usage: runas UID COMMAND...\n");
		return 2;
	}
	id = (uid_t)strtoul(argv[1], NULL, 10);
	if (setgroups(0, NULL) || setgid(id) || setuid(id)) {
		perror("runas: cannot drop privileges");
		return 2;
	}
	if (getuid() != id || geteuid() != id || setuid(0) == 0) {
		fprintf(stderr, "runas: privileges not dropped\n");
		return 2;
	}
	execvp(argv[2], argv + 2);
	perror("runas: exec");
	return 127;
}
