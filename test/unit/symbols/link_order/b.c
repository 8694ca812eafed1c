/* Link-order fixture, second object: no `dup`; a global `helper`, namesake of a.c's static. */
__attribute__((noipa)) int helper(int x) { return x - 1; }
