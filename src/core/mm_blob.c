/*
 * mm_blob.c
 *	  Names of algorithms and tasks; the model blob writer and its
 *	  validating reader.
 *
 * Algorithm.  The layout is described in mm_core.h.  Every integer and
 * double is encoded and decoded byte by byte in little-endian order, so
 * the format is the same on every platform and no struct is ever copied
 * to or from the wire.  The writer first validates the model and computes
 * the exact size, then writes the payload, then stamps the header with the
 * payload length and its CRC-32C.
 *
 * The reader trusts nothing.  It checks, in this order: that the header
 * fits, the magic, the format version, the algorithm, the zero flags and
 * reserved word, that the payload length is exactly what follows the
 * header and that the CRC matches; then it decodes the payload through a
 * bounds-checked cursor.  Every count is checked against its limit and
 * against the bytes that remain (with overflow-checked arithmetic) before
 * anything is allocated, names must be 1..MM_MAX_NAME bytes without NUL,
 * enumerations must be known, widths consistent, doubles finite and the
 * payload must end exactly after the algorithm section.  Every failure is
 * MM_ECORRUPT with a message that says what was wrong and where.  A blob
 * that is accepted is canonical: writing the model again reproduces it
 * byte for byte.
 */
#include "mm_core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* bytes of a feature entry with an empty name: u16 + u8 + u32 */
#define MM_FEATURE_FIXED 7
/* bytes of the linear section without coefficients: u8 + f64 + f64 + u32 */
#define MM_LINEAR_FIXED 21

/* A read cursor over the payload. */
typedef struct MmCursor
{
	const uint8_t *p;
	size_t		len;
	size_t		pos;
} MmCursor;

/* The name of an algorithm, or NULL. */
const char *
mm_algorithm_name(int algorithm)
{
	switch (algorithm)
	{
		case MM_ALG_LINEAR_REGRESSION:
			return "linear_regression";
		case MM_ALG_RIDGE:
			return "ridge";
	}
	return NULL;
}

/* The algorithm id for a name, or 0. */
int
mm_algorithm_from_name(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "linear_regression") == 0)
		return MM_ALG_LINEAR_REGRESSION;
	if (strcmp(name, "ridge") == 0)
		return MM_ALG_RIDGE;
	return 0;
}

/* The name of a task, or NULL. */
const char *
mm_task_name(int task)
{
	switch (task)
	{
		case MM_TASK_REGRESSION:
			return "regression";
		case MM_TASK_CLASSIFICATION:
			return "classification";
		case MM_TASK_CLUSTERING:
			return "clustering";
		case MM_TASK_DECOMPOSITION:
			return "decomposition";
	}
	return NULL;
}

/* ---------------------------------------------------------------------
 * Little-endian encoding
 * --------------------------------------------------------------------- */

/* Store v little-endian in 2 bytes. */
static inline void
mm_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}

/* Store v little-endian in 4 bytes. */
static inline void
mm_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

/* Store the IEEE-754 bits of v little-endian in 8 bytes. */
static inline void
mm_put_f64(uint8_t *p, double v)
{
	uint64_t	bits;
	int			i;

	memcpy(&bits, &v, sizeof(bits));
	for (i = 0; i < 8; i++)
		p[i] = (uint8_t) (bits >> (8 * i));
}

/* Load a little-endian u16. */
static inline uint16_t
mm_get_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

/* Load a little-endian u32. */
static inline uint32_t
mm_get_u32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

/* Load a little-endian IEEE-754 double. */
static inline double
mm_get_f64(const uint8_t *p)
{
	uint64_t	bits = 0;
	double		v;
	int			i;

	for (i = 0; i < 8; i++)
		bits |= (uint64_t) p[i] << (8 * i);
	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* ---------------------------------------------------------------------
 * Writer
 * --------------------------------------------------------------------- */

/* strlen bounded by max + 1, so that overlong names are seen as such. */
static size_t
mm_bounded_len(const char *s, size_t max)
{
	size_t		i;

	for (i = 0; i <= max && s[i] != '\0'; i++)
		;
	return i;
}

/* Validate m and compute its exact blob size into *size. */
static MmStatus
mm_model_check(const MmModel *m, size_t *size, MmErr *err)
{
	size_t		total;
	size_t		tlen;
	uint64_t	ncols = 0;
	uint32_t	i;

	if (m == NULL)
	{
		mm_err_set(err, "model is null");
		return MM_EINVAL;
	}
	if (mm_algorithm_name(m->algorithm) == NULL)
	{
		mm_err_set(err, "unknown algorithm %u", (unsigned) m->algorithm);
		return MM_EINVAL;
	}
	if (mm_task_name(m->task) == NULL)
	{
		mm_err_set(err, "unknown task %u", (unsigned) m->task);
		return MM_EINVAL;
	}
	if (m->target == NULL ||
		(tlen = mm_bounded_len(m->target, MM_MAX_NAME)) < 1 ||
		tlen > MM_MAX_NAME)
	{
		mm_err_set(err, "target name must be 1..%d bytes", MM_MAX_NAME);
		return MM_EINVAL;
	}
	if (m->nfeatures < 1 || m->nfeatures > MM_MAX_FEATURES ||
		m->features == NULL)
	{
		mm_err_set(err, "feature count %u is out of range 1..%d",
				   (unsigned) m->nfeatures, MM_MAX_FEATURES);
		return MM_EINVAL;
	}

	total = MM_BLOB_HEADER_SIZE + 1 + 2 + tlen + 4;
	for (i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];
		size_t		nlen;

		if (f->name == NULL ||
			(nlen = mm_bounded_len(f->name, MM_MAX_NAME)) < 1 ||
			nlen > MM_MAX_NAME)
		{
			mm_err_set(err, "feature %u name must be 1..%d bytes",
					   (unsigned) i + 1, MM_MAX_NAME);
			return MM_EINVAL;
		}
		if (f->kind == MM_FEAT_NUMERIC)
		{
			if (f->width != 1)
			{
				mm_err_set(err, "feature %u: numeric width must be 1, not %u",
						   (unsigned) i + 1, (unsigned) f->width);
				return MM_EINVAL;
			}
		}
		else if (f->kind == MM_FEAT_ARRAY)
		{
			if (f->width < 1 || f->width > MM_MAX_WIDTH)
			{
				mm_err_set(err, "feature %u: array width %u is out of range 1..%d",
						   (unsigned) i + 1, (unsigned) f->width, MM_MAX_WIDTH);
				return MM_EINVAL;
			}
		}
		else
		{
			mm_err_set(err, "feature %u: unknown kind %u",
					   (unsigned) i + 1, (unsigned) f->kind);
			return MM_EINVAL;
		}
		ncols += f->width;
		total += MM_FEATURE_FIXED + nlen;
	}
	if (ncols > MM_MAX_COLS)
	{
		mm_err_set(err, "encoded width %llu exceeds the limit of %d columns",
				   (unsigned long long) ncols, MM_MAX_COLS);
		return MM_ELIMIT;
	}
	if (ncols != m->ncols)
	{
		mm_err_set(err, "ncols %u does not match the sum of the feature widths %llu",
				   (unsigned) m->ncols, (unsigned long long) ncols);
		return MM_EINVAL;
	}

	/* linear_regression and ridge share one section */
	if (!isfinite(m->alpha) || m->alpha < 0.0)
	{
		mm_err_set(err, "alpha %g is not finite and non-negative", m->alpha);
		return MM_EINVAL;
	}
	if (!isfinite(m->intercept))
	{
		mm_err_set(err, "intercept is not finite");
		return MM_EINVAL;
	}
	if (m->coef == NULL)
	{
		mm_err_set(err, "coefficients are null");
		return MM_EINVAL;
	}
	for (i = 0; i < m->ncols; i++)
	{
		if (!isfinite(m->coef[i]))
		{
			mm_err_set(err, "coefficient %u is not finite", (unsigned) i + 1);
			return MM_EINVAL;
		}
	}
	total += MM_LINEAR_FIXED + (size_t) 8 * m->ncols;
	if (total - MM_BLOB_HEADER_SIZE > UINT32_MAX)
	{
		mm_err_set(err, "model blob of %zu bytes is too large", total);
		return MM_ELIMIT;
	}
	*size = total;
	return MM_OK;
}

/* Exact size of the blob of m; 0 when m is invalid or too large. */
size_t
mm_blob_size(const MmModel *m)
{
	size_t		size = 0;

	if (mm_model_check(m, &size, NULL) != MM_OK)
		return 0;
	return size;
}

/* Append a u16-length-prefixed name at *q. */
static uint8_t *
mm_put_name(uint8_t *q, const char *s)
{
	size_t		n = strlen(s);

	mm_put_u16(q, (uint16_t) n);
	memcpy(q + 2, s, n);
	return q + 2 + n;
}

/* Write the blob of m into buf, which holds len bytes. */
MmStatus
mm_blob_write(const MmModel *m, uint8_t *buf, size_t len, MmErr *err)
{
	size_t		size = 0;
	MmStatus	st;
	uint8_t    *q;
	uint32_t	i;

	st = mm_model_check(m, &size, err);
	if (st != MM_OK)
		return st;
	if (buf == NULL || len < size)
	{
		mm_err_set(err, "blob buffer of %zu bytes is too small for %zu", len, size);
		return MM_EINVAL;
	}

	/* payload */
	q = buf + MM_BLOB_HEADER_SIZE;
	*q++ = m->task;
	q = mm_put_name(q, m->target);
	mm_put_u32(q, m->nfeatures);
	q += 4;
	for (i = 0; i < m->nfeatures; i++)
	{
		q = mm_put_name(q, m->features[i].name);
		*q++ = m->features[i].kind;
		mm_put_u32(q, m->features[i].width);
		q += 4;
	}
	*q++ = m->fit_intercept ? 1 : 0;
	mm_put_f64(q, m->alpha);
	q += 8;
	mm_put_f64(q, m->intercept);
	q += 8;
	mm_put_u32(q, m->ncols);
	q += 4;
	for (i = 0; i < m->ncols; i++)
	{
		mm_put_f64(q, m->coef[i]);
		q += 8;
	}

	/* header */
	memcpy(buf, MM_BLOB_MAGIC, 4);
	mm_put_u16(buf + 4, MM_BLOB_VERSION);
	mm_put_u16(buf + 6, m->algorithm);
	mm_put_u32(buf + 8, 0);
	mm_put_u32(buf + 12, (uint32_t) (size - MM_BLOB_HEADER_SIZE));
	mm_put_u32(buf + 16, mm_crc32c(buf + MM_BLOB_HEADER_SIZE,
								   size - MM_BLOB_HEADER_SIZE));
	mm_put_u32(buf + 20, 0);
	return MM_OK;
}

/* ---------------------------------------------------------------------
 * Reader
 * --------------------------------------------------------------------- */

/* Claim n bytes at the cursor, or explain that what needs more. */
static const uint8_t *
mm_take(MmCursor *c, size_t n, const char *what, MmErr *err)
{
	const uint8_t *p;

	if (n > c->len - c->pos)
	{
		mm_err_set(err, "blob truncated: %s needs %zu bytes, %zu remain",
				   what, n, c->len - c->pos);
		return NULL;
	}
	p = c->p + c->pos;
	c->pos += n;
	return p;
}

/*
 * Read a u16-length-prefixed name (label says which, for messages) into
 * freshly allocated, NUL-terminated memory.
 */
static char *
mm_take_name(MmCursor *c, const char *label, const MmAlloc *a, MmErr *err)
{
	char		what[96];
	const uint8_t *p;
	uint16_t	n;
	char	   *s;

	snprintf(what, sizeof(what), "%s length", label);
	if ((p = mm_take(c, 2, what, err)) == NULL)
		return NULL;
	n = mm_get_u16(p);
	if (n < 1 || n > MM_MAX_NAME)
	{
		mm_err_set(err, "%s length %u is out of range 1..%d",
				   label, (unsigned) n, MM_MAX_NAME);
		return NULL;
	}
	if ((p = mm_take(c, n, label, err)) == NULL)
		return NULL;
	if (memchr(p, '\0', n) != NULL)
	{
		mm_err_set(err, "%s contains a NUL byte", label);
		return NULL;
	}
	s = a->alloc(a->ctx, (size_t) n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Validate and decode the blob in buf[len] into a model allocated via a. */
MmStatus
mm_blob_read(const uint8_t *buf, size_t len, const MmAlloc *a,
			 MmModel **out, MmErr *err)
{
	MmCursor	c;
	MmModel    *m;
	const uint8_t *p;
	uint16_t	version;
	uint16_t	algorithm;
	uint32_t	flags;
	uint32_t	plen;
	uint32_t	stored;
	uint32_t	computed;
	uint32_t	reserved;
	uint32_t	nf;
	uint32_t	ncoef;
	uint64_t	ncols = 0;
	size_t		need;
	char		label[64];
	uint32_t	i;

	if (buf == NULL && len > 0)
	{
		mm_err_set(err, "blob is null");
		return MM_EINVAL;
	}
	if (len < MM_BLOB_HEADER_SIZE)
	{
		mm_err_set(err, "blob truncated: %zu bytes, the header alone needs %d",
				   len, MM_BLOB_HEADER_SIZE);
		return MM_ECORRUPT;
	}
	if (memcmp(buf, MM_BLOB_MAGIC, 4) != 0)
	{
		mm_err_set(err, "not a massmodel blob: magic is 0x%02x%02x%02x%02x, expected \"%s\"",
				   buf[0], buf[1], buf[2], buf[3], MM_BLOB_MAGIC);
		return MM_ECORRUPT;
	}
	version = mm_get_u16(buf + 4);
	if (version != MM_BLOB_VERSION)
	{
		mm_err_set(err, "unsupported blob format version %u (this build reads version %d)",
				   (unsigned) version, MM_BLOB_VERSION);
		return MM_ECORRUPT;
	}
	algorithm = mm_get_u16(buf + 6);
	if (mm_algorithm_name(algorithm) == NULL)
	{
		mm_err_set(err, "unknown algorithm %u in blob", (unsigned) algorithm);
		return MM_ECORRUPT;
	}
	flags = mm_get_u32(buf + 8);
	if (flags != 0)
	{
		mm_err_set(err, "blob flags are 0x%08x, must be zero", (unsigned) flags);
		return MM_ECORRUPT;
	}
	reserved = mm_get_u32(buf + 20);
	if (reserved != 0)
	{
		mm_err_set(err, "blob reserved header word is 0x%08x, must be zero",
				   (unsigned) reserved);
		return MM_ECORRUPT;
	}
	plen = mm_get_u32(buf + 12);
	if ((size_t) plen != len - MM_BLOB_HEADER_SIZE)
	{
		mm_err_set(err, "blob payload length %u does not match the %zu bytes after the header",
				   (unsigned) plen, len - MM_BLOB_HEADER_SIZE);
		return MM_ECORRUPT;
	}
	stored = mm_get_u32(buf + 16);
	computed = mm_crc32c(buf + MM_BLOB_HEADER_SIZE, plen);
	if (stored != computed)
	{
		mm_err_set(err, "checksum mismatch: stored 0x%08x, computed 0x%08x",
				   (unsigned) stored, (unsigned) computed);
		return MM_ECORRUPT;
	}

	c.p = buf + MM_BLOB_HEADER_SIZE;
	c.len = plen;
	c.pos = 0;

	m = mm_alloc0(a, sizeof(MmModel));
	m->algorithm = algorithm;

	if ((p = mm_take(&c, 1, "task", err)) == NULL)
		return MM_ECORRUPT;
	m->task = p[0];
	if (mm_task_name(m->task) == NULL)
	{
		mm_err_set(err, "unknown task %u in blob", (unsigned) m->task);
		return MM_ECORRUPT;
	}
	if ((m->target = mm_take_name(&c, "target name", a, err)) == NULL)
		return MM_ECORRUPT;

	if ((p = mm_take(&c, 4, "feature count", err)) == NULL)
		return MM_ECORRUPT;
	nf = mm_get_u32(p);
	if (nf < 1 || nf > MM_MAX_FEATURES)
	{
		mm_err_set(err, "feature count %u is out of range 1..%d",
				   (unsigned) nf, MM_MAX_FEATURES);
		return MM_ECORRUPT;
	}
	/* each feature takes at least its fixed part and a 1-byte name */
	need = (size_t) nf * (MM_FEATURE_FIXED + 1);
	if (need > c.len - c.pos)
	{
		mm_err_set(err, "blob truncated: %u features need at least %zu bytes, %zu remain",
				   (unsigned) nf, need, c.len - c.pos);
		return MM_ECORRUPT;
	}
	m->nfeatures = nf;
	m->features = mm_alloc0(a, sizeof(MmFeature) * (size_t) nf);
	for (i = 0; i < nf; i++)
	{
		MmFeature  *f = &m->features[i];

		snprintf(label, sizeof(label), "feature %u name", (unsigned) i + 1);
		if ((f->name = mm_take_name(&c, label, a, err)) == NULL)
			return MM_ECORRUPT;
		snprintf(label, sizeof(label), "feature %u kind and width", (unsigned) i + 1);
		if ((p = mm_take(&c, 5, label, err)) == NULL)
			return MM_ECORRUPT;
		f->kind = p[0];
		f->width = mm_get_u32(p + 1);
		if (f->kind == MM_FEAT_NUMERIC)
		{
			if (f->width != 1)
			{
				mm_err_set(err, "feature %u: numeric width must be 1, not %u",
						   (unsigned) i + 1, (unsigned) f->width);
				return MM_ECORRUPT;
			}
		}
		else if (f->kind == MM_FEAT_ARRAY)
		{
			if (f->width < 1 || f->width > MM_MAX_WIDTH)
			{
				mm_err_set(err, "feature %u: array width %u is out of range 1..%d",
						   (unsigned) i + 1, (unsigned) f->width, MM_MAX_WIDTH);
				return MM_ECORRUPT;
			}
		}
		else
		{
			mm_err_set(err, "feature %u: unknown kind %u",
					   (unsigned) i + 1, (unsigned) f->kind);
			return MM_ECORRUPT;
		}
		ncols += f->width;
		if (ncols > MM_MAX_COLS)
		{
			mm_err_set(err, "encoded width exceeds the limit of %d columns at feature %u",
					   MM_MAX_COLS, (unsigned) i + 1);
			return MM_ECORRUPT;
		}
	}
	m->ncols = (uint32_t) ncols;

	/* linear_regression and ridge */
	if ((p = mm_take(&c, MM_LINEAR_FIXED, "linear model section", err)) == NULL)
		return MM_ECORRUPT;
	if (p[0] > 1)
	{
		mm_err_set(err, "fit_intercept must be 0 or 1, not %u", (unsigned) p[0]);
		return MM_ECORRUPT;
	}
	m->fit_intercept = p[0] == 1;
	m->alpha = mm_get_f64(p + 1);
	if (!isfinite(m->alpha) || m->alpha < 0.0)
	{
		mm_err_set(err, "alpha %g is not finite and non-negative", m->alpha);
		return MM_ECORRUPT;
	}
	m->intercept = mm_get_f64(p + 9);
	if (!isfinite(m->intercept))
	{
		mm_err_set(err, "intercept %g is not finite", m->intercept);
		return MM_ECORRUPT;
	}
	ncoef = mm_get_u32(p + 17);
	if (ncoef != m->ncols)
	{
		mm_err_set(err, "coefficient count %u does not match the encoded width %u",
				   (unsigned) ncoef, (unsigned) m->ncols);
		return MM_ECORRUPT;
	}
	/* ncoef <= MM_MAX_COLS, so 8 * ncoef cannot overflow */
	need = (size_t) 8 * ncoef;
	if (need > c.len - c.pos)
	{
		mm_err_set(err, "blob truncated: %u coefficients need %zu bytes, %zu remain",
				   (unsigned) ncoef, need, c.len - c.pos);
		return MM_ECORRUPT;
	}
	p = c.p + c.pos;
	c.pos += need;
	m->coef = mm_alloc0(a, sizeof(double) * (ncoef > 0 ? ncoef : 1));
	for (i = 0; i < ncoef; i++)
	{
		m->coef[i] = mm_get_f64(p + (size_t) 8 * i);
		if (!isfinite(m->coef[i]))
		{
			mm_err_set(err, "coefficient %u is not finite", (unsigned) i + 1);
			return MM_ECORRUPT;
		}
	}

	if (c.pos != c.len)
	{
		mm_err_set(err, "%zu trailing bytes after the model", c.len - c.pos);
		return MM_ECORRUPT;
	}
	*out = m;
	return MM_OK;
}
