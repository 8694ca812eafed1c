/* Link-order fixture, third object: a static `dup` larger than a.c's, and a `state`. */
static int state;
static __attribute__((noipa)) int dup(int x)
{
	int i, sum = 0;

	for (i = 0; i < x; i++)
		sum += i * state++;
	return sum;
}
int c_entry(int x) { return dup(x); }
