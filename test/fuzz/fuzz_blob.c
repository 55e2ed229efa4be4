/*
 * fuzz_blob.c
 *	  libFuzzer target for the model blob reader.
 *
 * Every input goes through mm_blob_read with a malloc allocator that
 * records its blocks and frees them all afterwards.  When the reader
 * accepts an input, the model is written again and must reproduce the
 * input byte for byte (accepted blobs are canonical); anything else
 * aborts.  Because random mutations almost never carry a valid CRC, each
 * input is also read a second time with its payload length and CRC
 * stamped afresh, so that the payload decoder gets fuzzed in depth.
 * Build with `make test/fuzz/fuzz_blob`; see README.md.
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

/* Read one buffer; if it is accepted, it must be written back identically. */
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
		size_t		len = mm_blob_size(m);
		uint8_t    *out;

		if (len != size)
			abort();
		out = malloc(len);
		if (out == NULL)
			abort();
		if (mm_blob_write(m, out, len, &err) != MM_OK)
			abort();
		if (memcmp(out, data, size) != 0)
			abort();
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
