// SPDX-License-Identifier: GPL-2.0-only
/*
 * elf-floor.c - the least an object differ must do: start, open each object named on the
 * command line with libelf and read every section. bench/diff-objects.sh times it next to
 * create-diff-object as the floor of a libelf program's whole-process time (kpatch's
 * create-diff-object is such a program).
 */
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t sections = 0;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return 1;
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);
		Elf *e = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ, NULL);

		if (!e) {
			fprintf(stderr, "elf-floor: cannot read %s\n", argv[i]);
			return 1;
		}
		for (Elf_Scn *s = NULL; (s = elf_nextscn(e, s));) {
			elf_getdata(s, NULL);
			sections++;
		}
		elf_end(e);
		close(fd);
	}
	printf("%zu sections\n", sections);
	return 0;
}
