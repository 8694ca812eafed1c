/* Link-order fixture, first object: a static `dup` (small) and a static `helper`. */
static int state;
static __attribute__((noipa)) int dup(int x) { return x + state++; }
static __attribute__((noipa)) int helper(int x) { return x * 3; }
int a_entry(int x) { return dup(x) + helper(x); }
