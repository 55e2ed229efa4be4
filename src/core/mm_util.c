/*
 * mm_util.c
 *	  Error messages, zeroed allocation, overflow-checked size arithmetic
 *	  and the CPU's vector instructions, for the massmodel core.
 *
 * Design: the core reports errors through a fixed-size MmErr buffer filled
 * with vsnprintf (always NUL-terminated, silently truncated), allocates
 * only through the caller's MmAlloc (which never returns NULL), and
 * computes every size that depends on untrusted input with the checked
 * helpers below, which report overflow instead of wrapping around.
 */
#include "mm_core.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * Whether this CPU has AVX2 and FMA (asked once; 0 off x86-64 or without
 * GCC or Clang).  The kernels that use them give the plain code's results
 * (see each), so the answer changes speed, not meaning.
 */
int
mm_cpu_avx2(void)
{
	static int	has = -1;

	if (has < 0)
	{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
		__builtin_cpu_init();
		has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
		has = 0;
#endif
	}
	return has;
}

/* Format a message into err (a no-op when err is NULL). */
void
mm_err_set(MmErr *err, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->msg[sizeof(err->msg) - 1] = '\0';
}

/* Allocate size bytes through a and zero them. */
void *
mm_alloc0(const MmAlloc *a, size_t size)
{
	void	   *p;

	p = a->alloc(a->ctx, size == 0 ? 1 : size);
	memset(p, 0, size == 0 ? 1 : size);
	return p;
}

/* size bytes from a, not zeroed (at least one byte). */
void *
mm_alloc(const MmAlloc *a, size_t size)
{
	return a->alloc(a->ctx, size == 0 ? 1 : size);
}

/* *out = a * b; false (and *out untouched) on overflow. */
bool
mm_mul_size(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return false;
	*out = a * b;
	return true;
}

/* The n x p values of X fit in memory and are finite (see mm_core.h). */
MmStatus
mm_check_matrix(const char *what, int64_t n, int p, const double *X, MmErr *err)
{
	size_t		total;

	if (!mm_mul_size((size_t) n, (size_t) p, &total) ||
		!mm_mul_size(total, sizeof(double), &total))
	{
		mm_err_set(err, "%s: too many values", what);
		return MM_ELIMIT;
	}
	total /= sizeof(double);
	for (size_t i = 0; i < total; i++)
		if (!isfinite(X[i]))
		{
			mm_err_set(err, "%s: non-finite value in row %lld, column %d", what,
					   (long long) (i / (size_t) p) + 1, (int) (i % (size_t) p) + 1);
			return MM_EINVAL;
		}
	return MM_OK;
}

/* The column means of X, checking finiteness in the same pass. */
MmStatus
mm_column_means(const char *what, int64_t n, int p, const double *X, double *mean,
				MmErr *err)
{
	memset(mean, 0, sizeof(double) * p);
	for (int64_t i = 0; i < n; i++)
	{
		const double *x = X + (size_t) i * p;

		for (int j = 0; j < p; j++)
		{
			if (!isfinite(x[j]))
			{
				mm_err_set(err, "%s: non-finite value in row %lld, column %d", what,
						   (long long) i + 1, j + 1);
				return MM_EINVAL;
			}
			mean[j] += x[j];
		}
	}
	for (int j = 0; j < p; j++)
		mean[j] /= (double) n;
	return MM_OK;
}

/* *out = a + b; false (and *out untouched) on overflow. */
bool
mm_add_size(size_t a, size_t b, size_t *out)
{
	if (b > SIZE_MAX - a)
		return false;
	*out = a + b;
	return true;
}
