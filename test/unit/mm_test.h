/*
 * mm_test.h
 *	  The harness the unit tests share: check() prints "ok N - name" or
 *	  "not ok N - name: detail" and counts; a tracking malloc allocator
 *	  (talloc) whose blocks track_reset() frees, so valgrind and
 *	  LeakSanitizer stay quiet.
 *
 * Each test/unit/test_*.c is its own program and includes this once,
 * after mm_core.h.
 */
#ifndef MM_TEST_H
#define MM_TEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>


static int	n_checks;
static int	n_passed;
static int	n_failed;

/*
 * stdout line-buffered even into a file or a pipe: a sanitizer report ends
 * the program with _exit(), and the "ok" lines printed before it must not be
 * lost with the stdio buffer.
 */
__attribute__((constructor)) static void
mm_test_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Report one check; detail (printf-style) is printed only on failure. */
static inline bool
check(bool ok, const char *name, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

static inline bool
check(bool ok, const char *name, const char *fmt,...)
{
	n_checks++;
	if (ok)
	{
		n_passed++;
		printf("ok %d - %s\n", n_checks, name);
	}
	else
	{
		va_list		ap;

		n_failed++;
		printf("not ok %d - %s: ", n_checks, name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	return ok;
}

/* The tracking malloc allocator. */
typedef struct TrackAlloc
{
	void	  **ptrs;
	size_t		n;
	size_t		cap;
} TrackAlloc;

/* MmAlloc callback: malloc, abort on failure, remember the block. */
static inline void *
track_alloc(void *ctx, size_t size)
{
	TrackAlloc *t = ctx;
	void	   *p;

	if (t->n == t->cap)
	{
		size_t		cap = t->cap ? 2 * t->cap : 64;
		void	  **np = realloc(t->ptrs, cap * sizeof(void *));

		if (np == NULL)
			abort();
		t->ptrs = np;
		t->cap = cap;
	}
	p = malloc(size ? size : 1);
	if (p == NULL)
		abort();
	t->ptrs[t->n++] = p;
	return p;
}

/* Free every block handed out so far. */
static inline void
track_reset(TrackAlloc *t)
{
	size_t		i;

	for (i = 0; i < t->n; i++)
		free(t->ptrs[i]);
	t->n = 0;
}

/* Free everything, including the list. */
static inline void
track_destroy(TrackAlloc *t)
{
	track_reset(t);
	free(t->ptrs);
	t->ptrs = NULL;
	t->cap = 0;
}

static TrackAlloc tracker;
static const MmAlloc talloc = {track_alloc, &tracker};

#endif							/* MM_TEST_H */
