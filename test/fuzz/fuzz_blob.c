/*
 * fuzz_blob.c
 *	  libFuzzer target for the model blob reader.
 *
 * Every input goes through mm_blob_read with a malloc allocator that
 * records its blocks and frees them all afterwards.  When the reader
 * accepts a version-2 or -3 input, the model is written again and must
 * reproduce the input byte for byte (accepted blobs are canonical).  An
 * accepted version-1 input is written as version 2, which must be
 * nfeatures + 2 bytes longer, be accepted in turn and reproduce itself
 * byte for byte.  Every level of every categorical feature must be found
 * at its index by mm_feature_level, and a proper prefix of it not at all.
 * Anything else aborts.  Because random mutations almost never carry a
 * valid CRC, each input is also read a second time with its payload
 * length and CRC stamped afresh, so that the payload decoder gets fuzzed
 * in depth.  Build with `make test/fuzz/fuzz_blob`; see README.md.
 */
#include "mm_core.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The blocks handed out during one input. */
typedef struct FuzzAlloc
{
	void	  **ptrs;
	size_t		n;
	size_t		cap;
} FuzzAlloc;

/* MmAlloc callback: malloc, abort on failure, remember the block. */
static void *
fuzz_alloc(void *ctx, size_t size)
{
	FuzzAlloc  *t = ctx;
	void	   *p;

	if (t->n == t->cap)
	{
		size_t		cap = t->cap ? 2 * t->cap : 16;
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

/* Every level of every categorical feature of m is found where it is. */
static void
fuzz_levels(const MmModel *m)
{
	uint32_t	i;
	uint32_t	l;

	for (i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];

		if (f->kind != MM_FEAT_CATEGORICAL)
			continue;
		for (l = 0; l < f->nlevels; l++)
		{
			size_t		n = strlen(f->levels[l]);

			if (mm_feature_level(f, f->levels[l], n) != (int) l)
				abort();
			if (n > 1 && mm_feature_level(f, f->levels[l], n - 1) >= (int) l)
				abort();
		}
	}
}

/* Write m into a fresh buffer of exactly mm_blob_size(m) bytes. */
static uint8_t *
fuzz_write(const MmModel *m, size_t *len)
{
	MmErr		err;
	uint8_t    *out;

	*len = mm_blob_size(m);
	if (*len == 0)
		abort();
	out = malloc(*len);
	if (out == NULL)
		abort();
	if (mm_blob_write(m, out, *len, &err) != MM_OK)
		abort();
	return out;
}

/*
 * Read one buffer; if it is accepted, it must be written back identically
 * (versions 2 and 3) or as an equivalent version-2 blob (version 1).
 */
static void
fuzz_one(const uint8_t *data, size_t size)
{
	FuzzAlloc	t = {NULL, 0, 0};
	MmAlloc		a = {fuzz_alloc, &t};
	MmModel    *m = NULL;
	MmErr		err;
	size_t		i;

	err.msg[0] = '\0';
	if (mm_blob_read(data, size, &a, &m, &err) == MM_OK)
	{
		size_t		len;
		uint8_t    *out = fuzz_write(m, &len);

		fuzz_levels(m);
		if (data[4] == 2 || data[4] == 3)
		{
			if (len != size || memcmp(out, data, size) != 0)
				abort();
		}
		else
		{
			MmModel    *m2 = NULL;
			size_t		len2;
			uint8_t    *out2;

			if (data[4] != 1 || len != size + m->nfeatures + 2)
				abort();
			if (mm_blob_read(out, len, &a, &m2, &err) != MM_OK)
				abort();
			out2 = fuzz_write(m2, &len2);
			if (len2 != len || memcmp(out, out2, len) != 0)
				abort();
			free(out2);
		}
		free(out);
	}
	else if (err.msg[0] == '\0')
		abort();

	for (i = 0; i < t.n; i++)
		free(t.ptrs[i]);
	free(t.ptrs);
}

/* libFuzzer entry point: the input as is, then with a fresh CRC. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *copy;
	uint32_t	plen;
	uint32_t	crc;
	int			i;

	fuzz_one(data, size);
	if (size < MM_BLOB_HEADER_SIZE || size - MM_BLOB_HEADER_SIZE > UINT32_MAX)
		return 0;

	copy = malloc(size);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	plen = (uint32_t) (size - MM_BLOB_HEADER_SIZE);
	crc = mm_crc32c(copy + MM_BLOB_HEADER_SIZE, plen);
	for (i = 0; i < 4; i++)
	{
		copy[12 + i] = (uint8_t) (plen >> (8 * i));
		copy[16 + i] = (uint8_t) (crc >> (8 * i));
	}
	fuzz_one(copy, size);
	free(copy);
	return 0;
}
