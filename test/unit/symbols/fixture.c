/* A tiny object for the vmlinux reader test: two locals, a global, a static variable. */
static int counter;
static int helper(int x) { return x + counter++; }
int fixture_entry(int x) { return helper(x) * 2; }
static const char banner[] = "fixture";
const char *fixture_banner(void) { return banner; }
