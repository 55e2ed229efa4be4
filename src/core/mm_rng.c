/*
 * mm_rng.c
 *	  Deterministic pseudo-random numbers: xoshiro256** seeded by
 *	  splitmix64.
 *
 * Design.  The state is the four 64-bit words of xoshiro256** (Blackman and
 * Vigna), filled from the 64-bit seed by four steps of splitmix64, which
 * never yields the forbidden all-zero state in practice (it is guarded
 * anyway).  Only fixed-width unsigned arithmetic is used, so the same seed
 * gives the same stream on every platform and compiler.
 *
 *	 uniform	the top 53 bits of one output times 2^-53: [0, 1), every
 *				value a multiple of 2^-53
 *	 below(n)	unbiased by rejection: outputs below 2^64 mod n are
 *				redrawn, the rest taken mod n (at most half the outputs
 *				are ever rejected, on average far fewer)
 *	 normal		Box-Muller from two uniforms, the cosine branch only: one
 *				value per call, nothing cached, so the generator is
 *				entirely described by MmRng
 *
 * There is no global state: every stream lives in the caller's MmRng.
 */
#include "mm_core.h"

#include <math.h>

#define MM_TWO_PI 6.283185307179586476925286766559

/* One step of splitmix64: advances *x and returns the mixed value. */
static uint64_t
mm_splitmix64(uint64_t *x)
{
	uint64_t	z;

	*x += UINT64_C(0x9E3779B97F4A7C15);
	z = *x;
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static inline uint64_t
mm_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Fill the state from seed. */
void
mm_rng_seed(MmRng *r, uint64_t seed)
{
	uint64_t	x = seed;
	int			i;

	for (i = 0; i < 4; i++)
		r->s[i] = mm_splitmix64(&x);
	if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = 1;
}

/* The next 64-bit output of xoshiro256**. */
uint64_t
mm_rng_next(MmRng *r)
{
	uint64_t   *s = r->s;
	uint64_t	result = mm_rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = mm_rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1) from the top 53 bits. */
double
mm_rng_uniform(MmRng *r)
{
	return (double) (mm_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n); 0 when n is 0. */
uint64_t
mm_rng_below(MmRng *r, uint64_t n)
{
	uint64_t	threshold;
	uint64_t	x;

	if (n == 0)
		return 0;
	/* 2^64 mod n: the count of outputs that would bias the result */
	threshold = (0 - n) % n;
	do
		x = mm_rng_next(r);
	while (x < threshold);
	return x % n;
}

/* Standard normal by Box-Muller (one value per call). */
double
mm_rng_normal(MmRng *r)
{
	double		u1 = 1.0 - mm_rng_uniform(r);	/* (0, 1]: log is finite */
	double		u2 = mm_rng_uniform(r);

	return sqrt(-2.0 * log(u1)) * cos(MM_TWO_PI * u2);
}
