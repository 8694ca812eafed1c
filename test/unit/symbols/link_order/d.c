/* Link-order fixture standing in for c.c built from other source: its `dup` has another size. */
static int state;
static __attribute__((noipa)) int dup(int x) { return x ^ state++; }
int c_entry(int x) { return dup(x); }
