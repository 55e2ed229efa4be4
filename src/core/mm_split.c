/*
 * mm_split.c
 *	  Deterministic, order-independent train/held-out split.
 *
 * Algorithm: each value of the row is reduced to its IEEE-754 bit pattern
 * (with -0.0 mapped to +0.0 and every NaN to one canonical quiet NaN, so
 * that values that compare equal hash equal); each value is hashed on its
 * own, by one multiplication with a constant of its position, and the
 * products are summed and finished with the seed and the row length:
 *
 *	 h = mix(seed ^ K0 ^ n * K1 ^ sum_i (bits_i ^ P_i) * Q_i)
 *
 * with P_i = (i + 1) * K2 and Q_i = P_i | 1 (odd), so each term is a
 * bijection of its value and (a, b) and (b, a) differ;
 * mix is the splitmix64 finaliser (Stafford's variant 13), a bijection
 * with full avalanche, which spreads the sum.  One independent multiply
 * per value lets the CPU overlap them all (the training scan hashes every
 * row, so this is on its hot path).  The top 53 bits of h give a double
 * uniform in [0, 1).  Nothing depends on other rows, so the split is the same
 * whatever order or process the rows arrive in.
 */
#include "mm_core.h"

#include <math.h>
#include <string.h>

#define MM_K0 UINT64_C(0x9E3779B97F4A7C15)
#define MM_K1 UINT64_C(0xC2B2AE3D27D4EB4F)
#define MM_K2 UINT64_C(0x165667B19E3779F9)

/* The splitmix64 finaliser: a 64-bit bijection with full avalanche. */
static inline uint64_t
mm_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* The canonical bit pattern of a double: -0.0 as 0.0, one NaN. */
static inline uint64_t
mm_double_bits(double v)
{
	uint64_t	bits;

	if (v == 0.0)
		return 0;
	if (isnan(v))
		return UINT64_C(0x7FF8000000000000);
	memcpy(&bits, &v, sizeof(bits));
	return bits;
}

/* A number uniform in [0, 1) determined by the seed and the row's values. */
double
mm_split_u(uint64_t seed, const double *vals, int n)
{
	uint64_t	acc = 0;
	uint64_t	h;
	int			i;

	if (n < 0)
		n = 0;
	for (i = 0; i < n; i++)
	{
		uint64_t	pos = (uint64_t) (i + 1) * MM_K2;

		acc += (mm_double_bits(vals[i]) ^ pos) * (pos | 1);
	}
	h = mm_mix64(seed ^ MM_K0 ^ ((uint64_t) n * MM_K1) ^ acc);
	return (double) (h >> 11) * 0x1.0p-53;
}
