/*
 * mm_blob.c
 *	  Names of algorithms and tasks; the model blob writer and its
 *	  validating reader; the lookup of a categorical feature's levels.
 *
 * Algorithm.  The layout is described in mm_core.h.  Every integer and
 * double is encoded and decoded byte by byte in little-endian order, so
 * the format is the same on every platform and no struct is ever copied
 * to or from the wire.  The writer first validates the model and computes
 * the exact size, then writes the payload, then stamps the header with the
 * payload length and its CRC-32C.  It writes version 2 for the
 * algorithms version 2 knew and version 3 for kmeans, pca and mlp.
 *
 * The reader trusts nothing.  It checks, in this order: that the header
 * fits, the magic, the format version (1 to 3), the algorithm (and that
 * the version is the one that holds it), the zero flags and reserved word, that the
 * payload length is exactly what follows the header and that the CRC
 * matches; then it decodes the payload through a bounds-checked cursor.
 * Every count is checked against its limit and against the bytes that
 * remain (with overflow-checked arithmetic) before anything is allocated,
 * names must be 1..MM_MAX_NAME bytes and levels and labels
 * 1..MM_MAX_LEVEL_LEN bytes without NUL, enumerations must be known,
 * widths consistent, doubles finite (and in range where the model says
 * so), levels and labels strictly ascending, and the payload must end
 * exactly after the algorithm section.  Every failure is MM_ECORRUPT with
 * a message that says what was wrong and where; messages never quote the
 * blob's strings, which may hold any bytes.
 *
 * The semantic checks (orderings, ranges of values, groups) are shared by
 * the writer and the reader, so a blob is accepted exactly when the
 * writer would produce it: an accepted version-2 or -3 blob is canonical and
 * writing the model again reproduces it byte for byte.  A version-1 blob
 * is read into a model with the version-2 defaults (impute error, no
 * scaling, no labels); writing that model gives the version-2 blob.
 */
#include "mm_core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* bytes of a feature entry with an empty name: u16 + u8 + u32 */
#define MM_FEATURE_FIXED 7
/* bytes of the linear section without coefficients: u8 + f64 + f64 + u32 */
#define MM_LINEAR_FIXED 21
/* bytes of the logistic section without arrays: u8 + u8 + f64 + u32 */
#define MM_LOGISTIC_FIXED 14
/* bytes of the naive Bayes section without arrays: three f64 */
#define MM_NB_FIXED 24
/* bytes of the k-means section without centres: u32 + f64 */
#define MM_KMEANS_FIXED 12
/* bytes of the PCA section without arrays: u32 + u8 */
#define MM_PCA_FIXED 5
/* bytes of the MLP section without sizes and weights: u8 + u32 */
#define MM_MLP_FIXED 5
/* ensemble section before the weights: method, member count */
#define MM_ENSEMBLE_FIXED 5

/* what mm_check_values() demands of each value */
typedef enum MmRule
{
	MM_RULE_FINITE,				/* finite */
	MM_RULE_POSITIVE,			/* finite and > 0 */
	MM_RULE_NONPOSITIVE,		/* finite and <= 0 */
	MM_RULE_NONNEGATIVE			/* finite and >= 0 */
} MmRule;

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
		case MM_ALG_LOGISTIC_REGRESSION:
			return "logistic_regression";
		case MM_ALG_NAIVE_BAYES:
			return "naive_bayes";
		case MM_ALG_KMEANS:
			return "kmeans";
		case MM_ALG_PCA:
			return "pca";
		case MM_ALG_MLP:
			return "mlp";
		case MM_ALG_LASSO:
			return "lasso";
		case MM_ALG_ELASTIC_NET:
			return "elastic_net";
		case MM_ALG_ENSEMBLE:
			return "ensemble";
		case MM_ALG_STACKING:
			return "stacking";
	}
	return NULL;
}

/* The algorithm id for a name, or 0. */
int
mm_algorithm_from_name(const char *name)
{
	int			alg;

	if (name == NULL)
		return 0;
	for (alg = MM_ALG_LINEAR_REGRESSION; alg <= MM_ALG_STACKING; alg++)
		if (strcmp(name, mm_algorithm_name(alg)) == 0)
			return alg;
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

/*
 * The task of an algorithm's models (0 for mlp, ensemble and stacking,
 * which have either, and for unknown ones).
 */
int
mm_algorithm_task(int algorithm)
{
	switch (algorithm)
	{
		case MM_ALG_LINEAR_REGRESSION:
		case MM_ALG_RIDGE:
		case MM_ALG_LASSO:
		case MM_ALG_ELASTIC_NET:
			return MM_TASK_REGRESSION;
		case MM_ALG_LOGISTIC_REGRESSION:
		case MM_ALG_NAIVE_BAYES:
			return MM_TASK_CLASSIFICATION;
		case MM_ALG_KMEANS:
			return MM_TASK_CLUSTERING;
		case MM_ALG_PCA:
			return MM_TASK_DECOMPOSITION;
	}
	return 0;
}

/* Whether the algorithm fits a target (regression or classification). */
static bool
mm_supervised_task(int task)
{
	return task == MM_TASK_REGRESSION || task == MM_TASK_CLASSIFICATION;
}

/*
 * The blob format version that holds m's algorithm: 2 for the algorithms
 * version 2 knew, so that older builds still read those models, and 3
 * for kmeans, pca and mlp.
 */
static int
mm_blob_version_for(int algorithm)
{
	return algorithm >= MM_ALG_KMEANS ? 3 : 2;
}

/*
 * Compare the byte strings a[alen] and b[blen]: memcmp over the common
 * prefix, then the shorter first.  For strings without NUL bytes this is
 * the order of strcmp.
 */
static int
mm_cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int			c = 0;

	if (alen > 0 && blen > 0)
		c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/*
 * The index of the level s[len] of a categorical feature, or -1.  The
 * levels are ascending in byte order, so this is a binary search; s need
 * not be NUL-terminated, and a prefix of a level is not that level.
 */
int
mm_feature_level(const MmFeature *f, const char *s, size_t len)
{
	uint32_t	lo = 0;
	uint32_t	hi;

	if (f == NULL || f->kind != MM_FEAT_CATEGORICAL || f->levels == NULL ||
		s == NULL || len == 0 || len > MM_MAX_LEVEL_LEN)
		return -1;
	hi = f->nlevels;
	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;
		const char *lev = f->levels[mid];
		int			c = mm_cmp_bytes(lev, strlen(lev), s, len);

		if (c == 0)
			return (int) mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
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
 * Checks shared by the writer and the reader.  Each returns false with a
 * message in err; the writer reports MM_EINVAL, the reader MM_ECORRUPT.
 * Numbers in messages (features, levels, labels, classes, columns) count
 * from 1.
 * --------------------------------------------------------------------- */

/*
 * Parse a label of an int-typed classifier: a decimal int64 in the form
 * PostgreSQL prints it ("-" for negatives, no "+", no leading zeros, no
 * "-0"), so that numeric and textual equality agree.
 */
static bool
mm_parse_int_label(const char *s, int64_t *out)
{
	const char *p = s;
	bool		neg = false;
	uint64_t	mag = 0;
	uint64_t	limit;

	if (*p == '-')
	{
		neg = true;
		p++;
	}
	if (*p < '0' || *p > '9')
		return false;
	if (*p == '0' && (p[1] != '\0' || neg))
		return false;
	limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	for (; *p != '\0'; p++)
	{
		unsigned	d;

		if (*p < '0' || *p > '9')
			return false;
		d = (unsigned) (*p - '0');
		if (mag > (limit - d) / 10)
			return false;
		mag = mag * 10 + d;
	}
	if (!neg)
		*out = (int64_t) mag;
	else if (mag == (uint64_t) INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t) mag;
	return true;
}

/* The algorithm's task must be the model's. */
static bool
mm_check_task(int algorithm, int task, MmErr *err)
{
	int			want = mm_algorithm_task(algorithm);

	if (mm_task_name(task) == NULL)
	{
		mm_err_set(err, "unknown task %u", (unsigned) task);
		return false;
	}
	if (algorithm == MM_ALG_MLP || algorithm == MM_ALG_ENSEMBLE || algorithm == MM_ALG_STACKING)
	{
		if (mm_supervised_task(task))
			return true;
		mm_err_set(err, "algorithm %s needs task regression or classification, not %s",
				   mm_algorithm_name(algorithm), mm_task_name(task));
		return false;
	}
	if (task != want)
	{
		mm_err_set(err, "algorithm %s needs task %s, not %s",
				   mm_algorithm_name(algorithm), mm_task_name(want),
				   mm_task_name(task));
		return false;
	}
	return true;
}

/*
 * Kind and width of feature fno (version: what the blob may hold).  For a
 * categorical feature the width is its level count.
 */
static bool
mm_check_kind(const MmFeature *f, uint32_t fno, int version, MmErr *err)
{
	if (f->kind == MM_FEAT_NUMERIC)
	{
		if (f->width != 1)
		{
			mm_err_set(err, "feature %u: numeric width must be 1, not %u",
					   (unsigned) fno, (unsigned) f->width);
			return false;
		}
	}
	else if (f->kind == MM_FEAT_ARRAY)
	{
		if (f->width < 1 || f->width > MM_MAX_WIDTH)
		{
			mm_err_set(err, "feature %u: array width %u is out of range 1..%d",
					   (unsigned) fno, (unsigned) f->width, MM_MAX_WIDTH);
			return false;
		}
	}
	else if (f->kind == MM_FEAT_CATEGORICAL && version >= 2)
	{
		if (f->width < 1 || f->width > MM_MAX_LEVELS)
		{
			mm_err_set(err, "feature %u: categorical width %u is out of range 1..%d",
					   (unsigned) fno, (unsigned) f->width, MM_MAX_LEVELS);
			return false;
		}
	}
	else if (f->kind == MM_FEAT_CATEGORICAL)
	{
		mm_err_set(err, "feature %u: kind %u (categorical) is not allowed in a version %d blob",
				   (unsigned) fno, (unsigned) f->kind, version);
		return false;
	}
	else
	{
		mm_err_set(err, "feature %u: unknown kind %u",
				   (unsigned) fno, (unsigned) f->kind);
		return false;
	}
	return true;
}

/* The levels of categorical feature fno must be strictly ascending. */
static bool
mm_check_levels(const MmFeature *f, uint32_t fno, MmErr *err)
{
	uint32_t	l;

	for (l = 1; l < f->nlevels; l++)
	{
		int			c = strcmp(f->levels[l - 1], f->levels[l]);

		if (c == 0)
		{
			mm_err_set(err, "feature %u: levels %u and %u are equal",
					   (unsigned) fno, (unsigned) l, (unsigned) l + 1);
			return false;
		}
		if (c > 0)
		{
			mm_err_set(err, "feature %u: levels %u and %u are not in ascending byte order",
					   (unsigned) fno, (unsigned) l, (unsigned) l + 1);
			return false;
		}
	}
	return true;
}

/*
 * Check n values against a rule.  what names them in messages; with
 * rowname set they are a matrix of rows of stride values, and an element
 * is named by (rowname r, column c).
 */
static bool
mm_check_values(const double *v, size_t n, MmRule rule, const char *what,
				const char *rowname, size_t stride, MmErr *err)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		const char *need;
		char		where[96];

		if (rule == MM_RULE_POSITIVE)
		{
			if (isfinite(v[i]) && v[i] > 0.0)
				continue;
			need = "must be finite and positive";
		}
		else if (rule == MM_RULE_NONPOSITIVE)
		{
			if (isfinite(v[i]) && v[i] <= 0.0)
				continue;
			need = "must be finite and at most 0";
		}
		else if (rule == MM_RULE_NONNEGATIVE)
		{
			if (isfinite(v[i]) && v[i] >= 0.0)
				continue;
			need = "must be finite and at least 0";
		}
		else
		{
			if (isfinite(v[i]))
				continue;
			need = "must be finite";
		}
		if (rowname != NULL)
			snprintf(where, sizeof(where), "%s (%s %zu, column %zu)",
					 what, rowname, i / stride + 1, i % stride + 1);
		else
			snprintf(where, sizeof(where), "%s %zu", what, i + 1);
		if (rule == MM_RULE_FINITE)
			mm_err_set(err, "%s is not finite", where);
		else
			mm_err_set(err, "%s is %g, %s", where, v[i], need);
		return false;
	}
	return true;
}

/* A known impute code, and fill values when it is not error. */
static bool
mm_check_impute(const MmFeature *f, uint32_t fno, MmErr *err)
{
	char		what[64];

	if (f->impute > MM_IMPUTE_MOST_FREQUENT)
	{
		mm_err_set(err, "feature %u: unknown impute code %u",
				   (unsigned) fno, (unsigned) f->impute);
		return false;
	}
	if (f->impute == MM_IMPUTE_ERROR)
		return true;
	snprintf(what, sizeof(what), "feature %u fill value", (unsigned) fno);
	return mm_check_values(f->fill, f->width, MM_RULE_FINITE, what, NULL, 0, err);
}

/* The centres and scales of the encoded columns. */
static bool
mm_check_scale(const MmModel *m, MmErr *err)
{
	if (m->scale > MM_SCALE_MINMAX)
	{
		mm_err_set(err, "unknown scale code %u", (unsigned) m->scale);
		return false;
	}
	if (m->scale == MM_SCALE_NONE)
		return true;
	return mm_check_values(m->center, m->ncols, MM_RULE_FINITE, "center",
						   NULL, 0, err) &&
		mm_check_values(m->scalev, m->ncols, MM_RULE_POSITIVE, "scale value",
						NULL, 0, err);
}

/* A known label type that agrees with the task. */
static bool
mm_check_label_type(const MmModel *m, MmErr *err)
{
	if (m->label_type > MM_LABEL_INT)
	{
		mm_err_set(err, "unknown label type %u", (unsigned) m->label_type);
		return false;
	}
	if (m->task == MM_TASK_CLASSIFICATION && m->label_type == MM_LABEL_NONE)
	{
		mm_err_set(err, "a classification model needs labels (label type is none)");
		return false;
	}
	if (m->task != MM_TASK_CLASSIFICATION && m->label_type != MM_LABEL_NONE)
	{
		mm_err_set(err, "a %s model must have label type none, not %u",
				   mm_task_name(m->task), (unsigned) m->label_type);
		return false;
	}
	return true;
}

/* The class count of a classifier. */
static bool
mm_check_nclasses(uint32_t n, MmErr *err)
{
	if (n < 2 || n > MM_MAX_CLASSES)
	{
		mm_err_set(err, "class count %u is out of range 2..%d",
				   (unsigned) n, MM_MAX_CLASSES);
		return false;
	}
	return true;
}

/* The labels of a classifier: distinct and ascending as their type orders. */
static bool
mm_check_labels(const MmModel *m, MmErr *err)
{
	uint32_t	l;
	int64_t		prev = 0;
	int64_t		cur;

	if (m->label_type == MM_LABEL_BOOL)
	{
		if (m->nclasses != 2 || strcmp(m->labels[0], "false") != 0 ||
			strcmp(m->labels[1], "true") != 0)
		{
			mm_err_set(err, "bool labels must be exactly \"false\" and \"true\"");
			return false;
		}
		return true;
	}
	for (l = 0; l < m->nclasses; l++)
	{
		int			c;

		if (m->label_type == MM_LABEL_INT)
		{
			if (!mm_parse_int_label(m->labels[l], &cur))
			{
				mm_err_set(err, "int label %u is not a decimal int64 in canonical form",
						   (unsigned) l + 1);
				return false;
			}
			c = l == 0 ? -1 : prev < cur ? -1 : prev > cur ? 1 : 0;
			prev = cur;
		}
		else
			c = l == 0 ? -1 : strcmp(m->labels[l - 1], m->labels[l]);
		if (c == 0)
		{
			mm_err_set(err, "labels %u and %u are equal", (unsigned) l, (unsigned) l + 1);
			return false;
		}
		if (c > 0)
		{
			mm_err_set(err, "labels %u and %u are not in ascending %s order",
					   (unsigned) l, (unsigned) l + 1,
					   m->label_type == MM_LABEL_INT ? "numeric" : "byte");
			return false;
		}
	}
	return true;
}

/* The parameters of linear_regression and ridge. */
static bool
mm_check_linear(const MmModel *m, MmErr *err)
{
	if (!isfinite(m->alpha) || m->alpha < 0.0)
	{
		mm_err_set(err, "alpha %g is not finite and non-negative", m->alpha);
		return false;
	}
	if (!isfinite(m->intercept))
	{
		mm_err_set(err, "intercept %g is not finite", m->intercept);
		return false;
	}
	return mm_check_values(m->coef, m->ncols, MM_RULE_FINITE, "coefficient",
						   NULL, 0, err);
}

/* The fixed parameters of logistic_regression. */
static bool
mm_check_logistic_head(const MmModel *m, MmErr *err)
{
	uint32_t	want = (uint32_t) mm_logistic_nsets(m->nclasses);

	if (m->penalty != 0 && m->penalty != 2)
	{
		mm_err_set(err, "penalty must be 0 (none) or 2 (l2), not %u",
				   (unsigned) m->penalty);
		return false;
	}
	if (!isfinite(m->C) || m->C <= 0.0)
	{
		mm_err_set(err, "C %g is not finite and positive", m->C);
		return false;
	}
	if (m->nsets != want)
	{
		mm_err_set(err, "weight vector count %u does not match %u for %u classes",
				   (unsigned) m->nsets, (unsigned) want, (unsigned) m->nclasses);
		return false;
	}
	return true;
}

/* The weights of logistic_regression. */
static bool
mm_check_logistic_weights(const MmModel *m, MmErr *err)
{
	return mm_check_values(m->coefs, (size_t) m->nsets * m->ncols, MM_RULE_FINITE,
						   "coefficient", "set", m->ncols, err) &&
		mm_check_values(m->intercepts, m->nsets, MM_RULE_FINITE, "intercept",
						NULL, 0, err);
}

/* The smoothing parameters of naive_bayes. */
static bool
mm_check_nb_head(const MmModel *m, MmErr *err)
{
	if (!isfinite(m->var_smoothing) || m->var_smoothing < 0.0)
	{
		mm_err_set(err, "var_smoothing %g is not finite and non-negative",
				   m->var_smoothing);
		return false;
	}
	if (!isfinite(m->nb_alpha) || m->nb_alpha < 0.0)
	{
		mm_err_set(err, "naive bayes alpha %g is not finite and non-negative",
				   m->nb_alpha);
		return false;
	}
	if (!isfinite(m->nb.epsilon) || m->nb.epsilon < 0.0)
	{
		mm_err_set(err, "epsilon %g is not finite and non-negative", m->nb.epsilon);
		return false;
	}
	return true;
}

/*
 * The groups of naive_bayes: each column -1 or a group; groups numbered
 * 0, 1, ... in the order of their first column, each a contiguous run;
 * the columns of a categorical feature exactly one group.
 */
static bool
mm_check_groups(const MmModel *m, MmErr *err)
{
	const int32_t *g = m->nb.group;
	int64_t		next = 0;
	uint32_t	col = 0;
	uint32_t	i;
	uint32_t	j;

	for (j = 0; j < m->ncols; j++)
	{
		if (g[j] == -1 || (j > 0 && g[j] == g[j - 1]))
			continue;
		if (g[j] >= 0 && g[j] < next)
		{
			mm_err_set(err, "group %d is not contiguous: it resumes at column %u",
					   (int) g[j], (unsigned) j + 1);
			return false;
		}
		if (g[j] != next)
		{
			mm_err_set(err, "column %u has group %d, expected -1 or %lld (groups are numbered in column order)",
					   (unsigned) j + 1, (int) g[j], (long long) next);
			return false;
		}
		next++;
	}
	for (i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];

		if (f->kind == MM_FEAT_CATEGORICAL)
		{
			int32_t		gi = g[col];
			bool		ok;

			ok = gi >= 0 && (col == 0 || g[col - 1] != gi) &&
				(col + f->width == m->ncols || g[col + f->width] != gi);
			for (j = col; ok && j < col + f->width; j++)
				ok = g[j] == gi;
			if (!ok)
			{
				mm_err_set(err, "feature %u: its columns %u..%u must form exactly one group",
						   (unsigned) i + 1, (unsigned) col + 1,
						   (unsigned) (col + f->width));
				return false;
			}
		}
		col += f->width;
	}
	return true;
}

/*
 * The variances of naive_bayes: finite and positive in numeric columns
 * (group -1), where they divide; finite and non-negative in group
 * columns, where nothing reads them (mm_nb_fit leaves them 0).
 */
static bool
mm_check_nb_var(const MmModel *m, MmErr *err)
{
	uint32_t	k;
	uint32_t	j;

	for (k = 0; k < m->nclasses; k++)
	{
		for (j = 0; j < m->ncols; j++)
		{
			double		v = m->nb.var[(size_t) k * m->ncols + j];
			bool		numeric = m->nb.group[j] < 0;

			if (isfinite(v) && (numeric ? v > 0.0 : v >= 0.0))
				continue;
			mm_err_set(err, "variance (class %u, column %u) is %g, must be finite and %s",
					   (unsigned) k + 1, (unsigned) j + 1, v,
					   numeric ? "positive" : "non-negative");
			return false;
		}
	}
	return true;
}

/*
 * The class statistics of naive_bayes (K = nclasses, p = ncols); the
 * groups first, since the rule for a variance depends on its column's.
 */
static bool
mm_check_nb_stats(const MmModel *m, MmErr *err)
{
	size_t		kp = (size_t) m->nclasses * m->ncols;

	return mm_check_groups(m, err) &&
		mm_check_values(m->nb.log_prior, m->nclasses, MM_RULE_FINITE,
						"log prior", NULL, 0, err) &&
		mm_check_values(m->nb.theta, kp, MM_RULE_FINITE, "theta", "class",
						m->ncols, err) &&
		mm_check_nb_var(m, err) &&
		mm_check_values(m->nb.log_prob, kp, MM_RULE_NONPOSITIVE,
						"log probability", "class", m->ncols, err);
}

/* lasso: l1_ratio exactly 1; elastic_net: in [0, 1]; others: unused. */
static bool
mm_check_l1_ratio(const MmModel *m, MmErr *err)
{
	if (m->algorithm == MM_ALG_LASSO && m->l1_ratio != 1.0)
	{
		mm_err_set(err, "a lasso model's l1_ratio must be 1, not %g", m->l1_ratio);
		return false;
	}
	if (m->algorithm == MM_ALG_ELASTIC_NET && !(m->l1_ratio >= 0.0 && m->l1_ratio <= 1.0))
	{
		mm_err_set(err, "l1_ratio %g is out of range 0..1", m->l1_ratio);
		return false;
	}
	return true;
}

/* k-means: the cluster count and the inertia. */
static bool
mm_check_kmeans_head(const MmModel *m, MmErr *err)
{
	if (m->k < 1 || m->k > MM_MAX_CLASSES)
	{
		mm_err_set(err, "cluster count %u is out of range 1..%d",
				   (unsigned) m->k, MM_MAX_CLASSES);
		return false;
	}
	return mm_check_values(&m->inertia, 1, MM_RULE_NONNEGATIVE, "inertia",
						   NULL, 0, err);
}

/* PCA: the component count (the whiten flag is a bool). */
static bool
mm_check_pca_head(const MmModel *m, MmErr *err)
{
	if (m->n_components < 1 || m->n_components > m->ncols)
	{
		mm_err_set(err, "component count %u is out of range 1..%u",
				   (unsigned) m->n_components, (unsigned) m->ncols);
		return false;
	}
	return true;
}

/* PCA: finite means and components, variances >= 0 (> 0 to whiten). */
static bool
mm_check_pca_values(const MmModel *m, MmErr *err)
{
	return mm_check_values(m->pca_mean, m->ncols, MM_RULE_FINITE, "mean",
						   NULL, 0, err) &&
		mm_check_values(m->components, (size_t) m->n_components * m->ncols,
						MM_RULE_FINITE, "component value", "component",
						m->ncols, err) &&
		mm_check_values(m->explained_variance, m->n_components,
						m->whiten ? MM_RULE_POSITIVE : MM_RULE_NONNEGATIVE,
						"explained variance", NULL, 0, err);
}

/*
 * MLP: activation, layer count and sizes (input ncols, output 1 for
 * regression or nclasses), and the number of weights and biases into
 * *nparams (overflow-checked).
 */
static bool
mm_check_mlp_shape(const MmModel *m, size_t *nparams, MmErr *err)
{
	const MmMlp *net = &m->mlp;
	uint32_t	want_out = m->task == MM_TASK_CLASSIFICATION ? m->nclasses : 1;
	size_t		total = 0;
	int			l;

	if (net->activation < 0 || net->activation > 2)
	{
		mm_err_set(err, "unknown activation %d", net->activation);
		return false;
	}
	if (net->nlayers < 1 || net->nlayers > MM_MLP_MAX_LAYERS + 1)
	{
		mm_err_set(err, "layer count %d is out of range 1..%d",
				   net->nlayers, MM_MLP_MAX_LAYERS + 1);
		return false;
	}
	if (net->classification != (m->task == MM_TASK_CLASSIFICATION))
	{
		mm_err_set(err, "network output does not match the task %s",
				   mm_task_name(m->task));
		return false;
	}
	for (l = 0; l <= net->nlayers; l++)
		if (net->size[l] < 1 || net->size[l] > MM_MAX_COLS)
		{
			mm_err_set(err, "layer %d size %d is out of range 1..%d",
					   l + 1, net->size[l], MM_MAX_COLS);
			return false;
		}
	if ((uint32_t) net->size[0] != m->ncols ||
		(uint32_t) net->size[net->nlayers] != want_out)
	{
		mm_err_set(err, "network of %d inputs and %d outputs does not match %u columns and %u outputs",
				   net->size[0], net->size[net->nlayers], (unsigned) m->ncols,
				   (unsigned) want_out);
		return false;
	}
	for (l = 0; l < net->nlayers; l++)
	{
		size_t		n;

		if (!mm_mul_size((size_t) net->size[l] + 1, (size_t) net->size[l + 1], &n) ||
			!mm_add_size(total, n, &total))
		{
			mm_err_set(err, "network has too many weights");
			return false;
		}
	}
	*nparams = total;
	return true;
}

/* MLP: every weight and bias finite. */
static bool
mm_check_mlp_values(const MmModel *m, MmErr *err)
{
	const MmMlp *net = &m->mlp;
	int			l;

	for (l = 0; l < net->nlayers; l++)
	{
		char		what[48];

		snprintf(what, sizeof(what), "layer %d weight", l + 1);
		if (!mm_check_values(net->W[l], (size_t) net->size[l + 1] * net->size[l],
							 MM_RULE_FINITE, what, "unit", net->size[l], err))
			return false;
		snprintf(what, sizeof(what), "layer %d bias", l + 1);
		if (!mm_check_values(net->b[l], net->size[l + 1], MM_RULE_FINITE, what,
							 NULL, 0, err))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------------
 * Writer
 * --------------------------------------------------------------------- */

/* strlen bounded by max + 1, so that overlong strings are seen as such. */
static size_t
mm_bounded_len(const char *s, size_t max)
{
	size_t		i;

	for (i = 0; i <= max && s[i] != '\0'; i++)
		;
	return i;
}

/* *total += count * each, false on overflow. */
static bool
mm_size_addmul(size_t *total, size_t count, size_t each)
{
	size_t		n;

	return mm_mul_size(count, each, &n) && mm_add_size(*total, n, total);
}

/*
 * Check a string list (levels or labels) of n entries for the writer:
 * present, each 1..MM_MAX_LEVEL_LEN bytes; add their encoded size.  what
 * names one entry ("label", "feature 2 level").
 */
static bool
mm_check_strings(char *const *s, uint32_t n, const char *what, size_t *total,
				 MmErr *err)
{
	uint32_t	l;

	if (s == NULL)
	{
		mm_err_set(err, "%s list is null", what);
		return false;
	}
	for (l = 0; l < n; l++)
	{
		size_t		len;

		if (s[l] == NULL ||
			(len = mm_bounded_len(s[l], MM_MAX_LEVEL_LEN)) < 1 ||
			len > MM_MAX_LEVEL_LEN)
		{
			mm_err_set(err, "%s %u must be 1..%d bytes", what, (unsigned) l + 1,
					   MM_MAX_LEVEL_LEN);
			return false;
		}
		*total += 2 + len;
	}
	return true;
}

/* Validate feature i + 1 of m for the writer and add its encoded size. */
static MmStatus
mm_feature_check(const MmFeature *f, uint32_t fno, size_t *total, MmErr *err)
{
	size_t		nlen;
	char		what[64];

	if (f->name == NULL ||
		(nlen = mm_bounded_len(f->name, MM_MAX_NAME)) < 1 ||
		nlen > MM_MAX_NAME)
	{
		mm_err_set(err, "feature %u name must be 1..%d bytes",
				   (unsigned) fno, MM_MAX_NAME);
		return MM_EINVAL;
	}
	if (!mm_check_kind(f, fno, MM_BLOB_VERSION, err))
		return MM_EINVAL;
	*total += MM_FEATURE_FIXED + nlen + 1;
	if (f->kind == MM_FEAT_CATEGORICAL)
	{
		if (f->nlevels != f->width)
		{
			mm_err_set(err, "feature %u: level count %u does not match width %u",
					   (unsigned) fno, (unsigned) f->nlevels, (unsigned) f->width);
			return MM_EINVAL;
		}
		snprintf(what, sizeof(what), "feature %u level", (unsigned) fno);
		if (!mm_check_strings(f->levels, f->nlevels, what, total, err) ||
			!mm_check_levels(f, fno, err))
			return MM_EINVAL;
		*total += 4;
	}
	if (f->impute != MM_IMPUTE_ERROR && f->impute <= MM_IMPUTE_MOST_FREQUENT &&
		f->fill == NULL)
	{
		mm_err_set(err, "feature %u: fill values are null", (unsigned) fno);
		return MM_EINVAL;
	}
	if (!mm_check_impute(f, fno, err))
		return MM_EINVAL;
	if (f->impute != MM_IMPUTE_ERROR)
		*total += (size_t) 8 * f->width;
	return MM_OK;
}

/* Validate m and compute its exact (version 2) blob size into *size. */
static MmStatus
mm_model_check(const MmModel *m, size_t *size, MmErr *err)
{
	size_t		total;
	size_t		tlen;
	size_t		kp;
	uint64_t	ncols = 0;
	uint32_t	i;
	MmStatus	st;

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
	if (!mm_check_task(m->algorithm, m->task, err))
		return MM_EINVAL;
	if (!mm_supervised_task(m->task))
	{
		/* clustering and decomposition have no target: length 0 */
		if (m->target != NULL)
		{
			mm_err_set(err, "a %s model has no target", mm_task_name(m->task));
			return MM_EINVAL;
		}
		tlen = 0;
	}
	else if (m->target == NULL ||
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

	/*
	 * With at most MM_MAX_COLS columns before the last feature, the sizes
	 * below stay far from overflow until the arrays that scale with
	 * ncols * nclasses, which are added with checks.
	 */
	total = MM_BLOB_HEADER_SIZE + 1 + 2 + tlen + 4;
	for (i = 0; i < m->nfeatures; i++)
	{
		if ((st = mm_feature_check(&m->features[i], i + 1, &total, err)) != MM_OK)
			return st;
		ncols += m->features[i].width;
		if (ncols > MM_MAX_COLS)
		{
			mm_err_set(err, "encoded width %llu exceeds the limit of %d columns at feature %u",
					   (unsigned long long) ncols, MM_MAX_COLS, (unsigned) i + 1);
			return MM_ELIMIT;
		}
	}
	if (ncols != m->ncols)
	{
		mm_err_set(err, "ncols %u does not match the sum of the feature widths %llu",
				   (unsigned) m->ncols, (unsigned long long) ncols);
		return MM_EINVAL;
	}

	/* scaling */
	total += 1;
	if (m->scale != MM_SCALE_NONE && m->scale <= MM_SCALE_MINMAX &&
		(m->center == NULL || m->scalev == NULL))
	{
		mm_err_set(err, "scaling centres or scales are null");
		return MM_EINVAL;
	}
	if (!mm_check_scale(m, err))
		return MM_EINVAL;
	if (m->scale != MM_SCALE_NONE)
		total += (size_t) 16 * m->ncols;

	/* labels */
	total += 1;
	if (!mm_check_label_type(m, err))
		return MM_EINVAL;
	if (m->label_type != MM_LABEL_NONE)
	{
		if (!mm_check_nclasses(m->nclasses, err) ||
			!mm_check_strings(m->labels, m->nclasses, "label", &total, err) ||
			!mm_check_labels(m, err))
			return MM_EINVAL;
		total += 4;
	}

	/* the algorithm section */
	switch (m->algorithm)
	{
		case MM_ALG_LINEAR_REGRESSION:
		case MM_ALG_RIDGE:
		case MM_ALG_LASSO:
		case MM_ALG_ELASTIC_NET:
			if (m->coef == NULL)
			{
				mm_err_set(err, "coefficients are null");
				return MM_EINVAL;
			}
			if (!mm_check_linear(m, err) || !mm_check_l1_ratio(m, err))
				return MM_EINVAL;
			total += MM_LINEAR_FIXED + (size_t) 8 * m->ncols;
			if (m->algorithm >= MM_ALG_LASSO)
				total += 8;
			break;
		case MM_ALG_LOGISTIC_REGRESSION:
			if (!mm_check_logistic_head(m, err))
				return MM_EINVAL;
			if (!mm_mul_size(m->nsets, m->ncols, &kp))
				goto too_large;
			if (m->coefs == NULL || m->intercepts == NULL)
			{
				mm_err_set(err, "logistic coefficients or intercepts are null");
				return MM_EINVAL;
			}
			if (!mm_check_logistic_weights(m, err))
				return MM_EINVAL;
			total += MM_LOGISTIC_FIXED;
			if (!mm_mul_size(m->nsets, m->ncols, &kp) ||
				!mm_size_addmul(&total, kp, 8) ||
				!mm_size_addmul(&total, m->nsets, 8))
				goto too_large;
			break;
		case MM_ALG_NAIVE_BAYES:
			if (!mm_check_nb_head(m, err))
				return MM_EINVAL;
			if (m->nb.K != (int) m->nclasses || m->nb.p != (int) m->ncols)
			{
				mm_err_set(err, "naive bayes dimensions %d x %d do not match %u classes and %u columns",
						   m->nb.K, m->nb.p, (unsigned) m->nclasses,
						   (unsigned) m->ncols);
				return MM_EINVAL;
			}
			if (m->nb.log_prior == NULL || m->nb.theta == NULL ||
				m->nb.var == NULL || m->nb.log_prob == NULL || m->nb.group == NULL)
			{
				mm_err_set(err, "naive bayes arrays are null");
				return MM_EINVAL;
			}
			if (!mm_mul_size(m->nclasses, m->ncols, &kp))
				goto too_large;
			if (!mm_check_nb_stats(m, err))
				return MM_EINVAL;
			total += MM_NB_FIXED + (size_t) 8 * m->nclasses + (size_t) 4 * m->ncols;
			if (!mm_size_addmul(&total, kp, 24))
				goto too_large;
			break;
		case MM_ALG_KMEANS:
			if (!mm_check_kmeans_head(m, err))
				return MM_EINVAL;
			if (m->centers == NULL)
			{
				mm_err_set(err, "cluster centres are null");
				return MM_EINVAL;
			}
			if (!mm_mul_size(m->k, m->ncols, &kp))
				goto too_large;
			if (!mm_check_values(m->centers, kp, MM_RULE_FINITE, "centre value",
								 "cluster", m->ncols, err))
				return MM_EINVAL;
			total += MM_KMEANS_FIXED;
			if (!mm_size_addmul(&total, kp, 8))
				goto too_large;
			break;
		case MM_ALG_PCA:
			if (!mm_check_pca_head(m, err))
				return MM_EINVAL;
			if (m->pca_mean == NULL || m->components == NULL ||
				m->explained_variance == NULL)
			{
				mm_err_set(err, "pca arrays are null");
				return MM_EINVAL;
			}
			if (!mm_check_pca_values(m, err))
				return MM_EINVAL;
			/* n_components <= ncols <= MM_MAX_COLS: the product fits */
			total += MM_PCA_FIXED + (size_t) 8 * m->ncols + (size_t) 8 * m->n_components;
			if (!mm_size_addmul(&total, (size_t) m->n_components * m->ncols, 8))
				goto too_large;
			break;
		case MM_ALG_MLP:
			if (!mm_check_mlp_shape(m, &kp, err))
				return MM_EINVAL;
			if (m->mlp.W == NULL || m->mlp.b == NULL)
			{
				mm_err_set(err, "network weights are null");
				return MM_EINVAL;
			}
			for (i = 0; i < (uint32_t) m->mlp.nlayers; i++)
				if (m->mlp.W[i] == NULL || m->mlp.b[i] == NULL)
				{
					mm_err_set(err, "network weights are null");
					return MM_EINVAL;
				}
			if (!mm_check_mlp_values(m, err))
				return MM_EINVAL;
			total += MM_MLP_FIXED + (size_t) 4 * (m->mlp.nlayers + 1);
			if (!mm_size_addmul(&total, kp, 8))
				goto too_large;
			break;
		case MM_ALG_ENSEMBLE:
		case MM_ALG_STACKING:
			/* members are not ensembles (checked first): one level deep */
			if ((st = mm_ensemble_check(m, err)) != MM_OK)
				return st;
			total += MM_ENSEMBLE_FIXED + (size_t) 8 * m->nmembers;
			for (i = 0; i <= m->nmembers; i++)
			{
				const MmModel *part = i < m->nmembers ? m->members[i] : m->final;
				size_t		psize;

				if (part == NULL)
					continue;
				if ((st = mm_model_check(part, &psize, err)) != MM_OK)
					return st;
				if (!mm_size_addmul(&total, 1, 4 + psize))
					goto too_large;
			}
			break;
	}
	if (total - MM_BLOB_HEADER_SIZE > UINT32_MAX)
		goto too_large;
	*size = total;
	return MM_OK;

too_large:
	mm_err_set(err, "model blob is too large (the payload is limited to %u bytes)",
			   (unsigned) UINT32_MAX);
	return MM_ELIMIT;
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

/* Append a u16-length-prefixed string at q. */
static uint8_t *
mm_put_str(uint8_t *q, const char *s)
{
	size_t		n = strlen(s);

	mm_put_u16(q, (uint16_t) n);
	memcpy(q + 2, s, n);
	return q + 2 + n;
}

/* Append n doubles at q. */
static uint8_t *
mm_put_f64s(uint8_t *q, const double *v, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		mm_put_f64(q + 8 * i, v[i]);
	return q + 8 * n;
}

/* Append a u32 at q. */
static uint8_t *
mm_put_u32q(uint8_t *q, uint32_t v)
{
	mm_put_u32(q, v);
	return q + 4;
}

/* Write the blob of m into buf, which holds len bytes. */
MmStatus
mm_blob_write(const MmModel *m, uint8_t *buf, size_t len, MmErr *err)
{
	size_t		size = 0;
	size_t		kp;
	MmStatus	st;
	uint8_t    *q;
	uint32_t	i;
	uint32_t	l;

	st = mm_model_check(m, &size, err);
	if (st != MM_OK)
		return st;
	if (buf == NULL || len < size)
	{
		mm_err_set(err, "blob buffer of %zu bytes is too small for %zu", len, size);
		return MM_EINVAL;
	}

	/* payload: task, target, features */
	q = buf + MM_BLOB_HEADER_SIZE;
	*q++ = m->task;
	if (m->target != NULL)
		q = mm_put_str(q, m->target);
	else
	{
		mm_put_u16(q, 0);
		q += 2;
	}
	q = mm_put_u32q(q, m->nfeatures);
	for (i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];

		q = mm_put_str(q, f->name);
		*q++ = f->kind;
		q = mm_put_u32q(q, f->width);
		if (f->kind == MM_FEAT_CATEGORICAL)
		{
			q = mm_put_u32q(q, f->nlevels);
			for (l = 0; l < f->nlevels; l++)
				q = mm_put_str(q, f->levels[l]);
		}
		*q++ = f->impute;
		if (f->impute != MM_IMPUTE_ERROR)
			q = mm_put_f64s(q, f->fill, f->width);
	}

	/* scaling, labels */
	*q++ = m->scale;
	if (m->scale != MM_SCALE_NONE)
	{
		q = mm_put_f64s(q, m->center, m->ncols);
		q = mm_put_f64s(q, m->scalev, m->ncols);
	}
	*q++ = m->label_type;
	if (m->label_type != MM_LABEL_NONE)
	{
		q = mm_put_u32q(q, m->nclasses);
		for (l = 0; l < m->nclasses; l++)
			q = mm_put_str(q, m->labels[l]);
	}

	/* the algorithm section */
	switch (m->algorithm)
	{
		case MM_ALG_LINEAR_REGRESSION:
		case MM_ALG_RIDGE:
		case MM_ALG_LASSO:
		case MM_ALG_ELASTIC_NET:
			*q++ = m->fit_intercept ? 1 : 0;
			mm_put_f64(q, m->alpha);
			mm_put_f64(q + 8, m->intercept);
			q = mm_put_u32q(q + 16, m->ncols);
			q = mm_put_f64s(q, m->coef, m->ncols);
			if (m->algorithm >= MM_ALG_LASSO)
				q = mm_put_f64s(q, &m->l1_ratio, 1);
			break;
		case MM_ALG_LOGISTIC_REGRESSION:
			*q++ = m->fit_intercept ? 1 : 0;
			*q++ = m->penalty;
			mm_put_f64(q, m->C);
			q = mm_put_u32q(q + 8, m->nsets);
			q = mm_put_f64s(q, m->coefs, (size_t) m->nsets * m->ncols);
			q = mm_put_f64s(q, m->intercepts, m->nsets);
			break;
		case MM_ALG_NAIVE_BAYES:
			kp = (size_t) m->nclasses * m->ncols;
			mm_put_f64(q, m->var_smoothing);
			mm_put_f64(q + 8, m->nb_alpha);
			mm_put_f64(q + 16, m->nb.epsilon);
			q = mm_put_f64s(q + 24, m->nb.log_prior, m->nclasses);
			q = mm_put_f64s(q, m->nb.theta, kp);
			q = mm_put_f64s(q, m->nb.var, kp);
			q = mm_put_f64s(q, m->nb.log_prob, kp);
			for (i = 0; i < m->ncols; i++)
				q = mm_put_u32q(q, (uint32_t) m->nb.group[i]);
			break;
		case MM_ALG_KMEANS:
			q = mm_put_u32q(q, m->k);
			mm_put_f64(q, m->inertia);
			q = mm_put_f64s(q + 8, m->centers, (size_t) m->k * m->ncols);
			break;
		case MM_ALG_PCA:
			q = mm_put_u32q(q, m->n_components);
			*q++ = m->whiten ? 1 : 0;
			q = mm_put_f64s(q, m->pca_mean, m->ncols);
			q = mm_put_f64s(q, m->components, (size_t) m->n_components * m->ncols);
			q = mm_put_f64s(q, m->explained_variance, m->n_components);
			break;
		case MM_ALG_MLP:
			*q++ = (uint8_t) m->mlp.activation;
			q = mm_put_u32q(q, (uint32_t) m->mlp.nlayers);
			for (i = 0; i <= (uint32_t) m->mlp.nlayers; i++)
				q = mm_put_u32q(q, (uint32_t) m->mlp.size[i]);
			for (i = 0; i < (uint32_t) m->mlp.nlayers; i++)
			{
				q = mm_put_f64s(q, m->mlp.W[i], (size_t) m->mlp.size[i + 1] * m->mlp.size[i]);
				q = mm_put_f64s(q, m->mlp.b[i], m->mlp.size[i + 1]);
			}
			break;
		case MM_ALG_ENSEMBLE:
		case MM_ALG_STACKING:
			*q++ = m->method;
			q = mm_put_u32q(q, m->nmembers);
			q = mm_put_f64s(q, m->weights, m->nmembers);
			for (i = 0; i <= m->nmembers; i++)
			{
				const MmModel *part = i < m->nmembers ? m->members[i] : m->final;
				size_t		psize;

				if (part == NULL)
					continue;
				psize = mm_blob_size(part);
				q = mm_put_u32q(q, (uint32_t) psize);
				if ((st = mm_blob_write(part, q, psize, err)) != MM_OK)
					return st;
				q += psize;
			}
			break;
	}

	/* header */
	memcpy(buf, MM_BLOB_MAGIC, 4);
	mm_put_u16(buf + 4, mm_blob_version_for(m->algorithm));
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

/* Read a u8 (what names it in messages) into *v. */
static bool
mm_take_u8(MmCursor *c, const char *what, uint8_t *v, MmErr *err)
{
	const uint8_t *p = mm_take(c, 1, what, err);

	if (p == NULL)
		return false;
	*v = p[0];
	return true;
}

/* Read a u32 into *v. */
static bool
mm_take_u32(MmCursor *c, const char *what, uint32_t *v, MmErr *err)
{
	const uint8_t *p = mm_take(c, 4, what, err);

	if (p == NULL)
		return false;
	*v = mm_get_u32(p);
	return true;
}

/* Read an f64 into *v (its value is checked by the caller). */
static bool
mm_take_f64(MmCursor *c, const char *what, double *v, MmErr *err)
{
	const uint8_t *p = mm_take(c, 8, what, err);

	if (p == NULL)
		return false;
	*v = mm_get_f64(p);
	return true;
}

/*
 * Check that count items of each bytes (at least each bytes, unless exact)
 * can still follow, before anything is allocated for them.
 */
static bool
mm_room_for(MmCursor *c, size_t count, size_t each, bool exact, const char *what,
			MmErr *err)
{
	size_t		need;

	if (!mm_mul_size(count, each, &need))
	{
		mm_err_set(err, "blob truncated: %zu %s need more than the %zu bytes that remain",
				   count, what, c->len - c->pos);
		return false;
	}
	if (need > c->len - c->pos)
	{
		mm_err_set(err, "blob truncated: %zu %s need %s%zu bytes, %zu remain",
				   count, what, exact ? "" : "at least ", need, c->len - c->pos);
		return false;
	}
	return true;
}

/*
 * Read a u16-length-prefixed string of 1..max bytes without NUL (label
 * says which, for messages) into freshly allocated, NUL-terminated memory.
 */
static char *
mm_take_str(MmCursor *c, const char *label, size_t max, const MmAlloc *a,
			MmErr *err)
{
	char		what[96];
	const uint8_t *p;
	uint16_t	n;
	char	   *s;

	snprintf(what, sizeof(what), "%s length", label);
	if ((p = mm_take(c, 2, what, err)) == NULL)
		return NULL;
	n = mm_get_u16(p);
	if (n < 1 || n > max)
	{
		mm_err_set(err, "%s length %u is out of range 1..%zu",
				   label, (unsigned) n, max);
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

/*
 * Read n strings of 1..MM_MAX_LEVEL_LEN bytes (levels or labels; label is
 * the printf prefix naming one, "%u" is its number) into *out.
 */
static bool
mm_take_strs(MmCursor *c, uint32_t n, const char *what, const char *prefix,
			 const MmAlloc *a, char ***out, MmErr *err)
{
	char	  **s;
	char		label[96];
	uint32_t	l;

	/* each string takes at least a length and one byte */
	if (!mm_room_for(c, n, 3, false, what, err))
		return false;
	s = mm_alloc0(a, sizeof(char *) * (n > 0 ? n : 1));
	for (l = 0; l < n; l++)
	{
		snprintf(label, sizeof(label), "%s %u", prefix, (unsigned) l + 1);
		if ((s[l] = mm_take_str(c, label, MM_MAX_LEVEL_LEN, a, err)) == NULL)
			return false;
	}
	*out = s;
	return true;
}

/* Read n doubles (values checked by the caller) into freshly allocated *out. */
static bool
mm_take_f64s(MmCursor *c, size_t n, const char *what, const MmAlloc *a,
			 double **out, MmErr *err)
{
	double	   *v;
	size_t		i;

	if (!mm_room_for(c, n, 8, true, what, err))
		return false;
	v = mm_alloc0(a, sizeof(double) * (n > 0 ? n : 1));
	for (i = 0; i < n; i++)
		v[i] = mm_get_f64(c->p + c->pos + 8 * i);
	c->pos += 8 * n;
	*out = v;
	return true;
}

/* Check the header of buf[len]; return its version and algorithm. */
static bool
mm_read_header(const uint8_t *buf, size_t len, uint16_t *version_out,
			   uint16_t *algorithm_out, MmErr *err)
{
	uint16_t	version;
	uint16_t	algorithm;
	uint32_t	flags;
	uint32_t	plen;
	uint32_t	stored;
	uint32_t	computed;
	uint32_t	reserved;

	if (len < MM_BLOB_HEADER_SIZE)
	{
		mm_err_set(err, "blob truncated: %zu bytes, the header alone needs %d",
				   len, MM_BLOB_HEADER_SIZE);
		return false;
	}
	if (memcmp(buf, MM_BLOB_MAGIC, 4) != 0)
	{
		mm_err_set(err, "not a massmodel blob: magic is 0x%02x%02x%02x%02x, expected \"%s\"",
				   buf[0], buf[1], buf[2], buf[3], MM_BLOB_MAGIC);
		return false;
	}
	version = mm_get_u16(buf + 4);
	if (version < 1 || version > MM_BLOB_VERSION)
	{
		mm_err_set(err, "unsupported blob format version %u (this build reads versions 1 to %d)",
				   (unsigned) version, MM_BLOB_VERSION);
		return false;
	}
	algorithm = mm_get_u16(buf + 6);
	if (mm_algorithm_name(algorithm) == NULL)
	{
		mm_err_set(err, "unknown algorithm %u in blob", (unsigned) algorithm);
		return false;
	}
	if (version == 1 && algorithm != MM_ALG_LINEAR_REGRESSION &&
		algorithm != MM_ALG_RIDGE)
	{
		mm_err_set(err, "algorithm %s is not allowed in a version 1 blob",
				   mm_algorithm_name(algorithm));
		return false;
	}
	if (version > 1 && version != mm_blob_version_for(algorithm))
	{
		mm_err_set(err, "algorithm %s is written in blob format version %d, not %u",
				   mm_algorithm_name(algorithm), mm_blob_version_for(algorithm),
				   (unsigned) version);
		return false;
	}
	flags = mm_get_u32(buf + 8);
	if (flags != 0)
	{
		mm_err_set(err, "blob flags are 0x%08x, must be zero", (unsigned) flags);
		return false;
	}
	reserved = mm_get_u32(buf + 20);
	if (reserved != 0)
	{
		mm_err_set(err, "blob reserved header word is 0x%08x, must be zero",
				   (unsigned) reserved);
		return false;
	}
	plen = mm_get_u32(buf + 12);
	if ((size_t) plen != len - MM_BLOB_HEADER_SIZE)
	{
		mm_err_set(err, "blob payload length %u does not match the %zu bytes after the header",
				   (unsigned) plen, len - MM_BLOB_HEADER_SIZE);
		return false;
	}
	stored = mm_get_u32(buf + 16);
	computed = mm_crc32c(buf + MM_BLOB_HEADER_SIZE, plen);
	if (stored != computed)
	{
		mm_err_set(err, "checksum mismatch: stored 0x%08x, computed 0x%08x",
				   (unsigned) stored, (unsigned) computed);
		return false;
	}
	*version_out = version;
	*algorithm_out = algorithm;
	return true;
}

/* Read the feature list of a version 1 or 2 payload into m. */
static bool
mm_read_features(MmCursor *c, int version, MmModel *m, const MmAlloc *a,
				 MmErr *err)
{
	uint32_t	nf;
	uint64_t	ncols = 0;
	char		label[96];
	uint32_t	i;

	if (!mm_take_u32(c, "feature count", &nf, err))
		return false;
	if (nf < 1 || nf > MM_MAX_FEATURES)
	{
		mm_err_set(err, "feature count %u is out of range 1..%d",
				   (unsigned) nf, MM_MAX_FEATURES);
		return false;
	}

	/*
	 * Each feature takes at least its fixed part and a 1-byte name (and in
	 * version 2 an impute byte).
	 */
	if (!mm_room_for(c, nf, MM_FEATURE_FIXED + 1 + (version >= 2 ? 1 : 0), false,
					 "features", err))
		return false;
	m->nfeatures = nf;
	m->features = mm_alloc0(a, sizeof(MmFeature) * (size_t) nf);
	for (i = 0; i < nf; i++)
	{
		MmFeature  *f = &m->features[i];
		uint32_t	fno = i + 1;
		const uint8_t *p;

		snprintf(label, sizeof(label), "feature %u name", (unsigned) fno);
		if ((f->name = mm_take_str(c, label, MM_MAX_NAME, a, err)) == NULL)
			return false;
		snprintf(label, sizeof(label), "feature %u kind and width", (unsigned) fno);
		if ((p = mm_take(c, 5, label, err)) == NULL)
			return false;
		f->kind = p[0];
		f->width = mm_get_u32(p + 1);
		if (!mm_check_kind(f, fno, version, err))
			return false;
		ncols += f->width;
		if (ncols > MM_MAX_COLS)
		{
			mm_err_set(err, "encoded width exceeds the limit of %d columns at feature %u",
					   MM_MAX_COLS, (unsigned) fno);
			return false;
		}
		if (version < 2)
			continue;

		if (f->kind == MM_FEAT_CATEGORICAL)
		{
			char		what[64];
			char		prefix[64];

			snprintf(label, sizeof(label), "feature %u level count", (unsigned) fno);
			if (!mm_take_u32(c, label, &f->nlevels, err))
				return false;
			if (f->nlevels != f->width)
			{
				mm_err_set(err, "feature %u: level count %u does not match width %u",
						   (unsigned) fno, (unsigned) f->nlevels, (unsigned) f->width);
				return false;
			}
			snprintf(what, sizeof(what), "levels of feature %u", (unsigned) fno);
			snprintf(prefix, sizeof(prefix), "feature %u level", (unsigned) fno);
			if (!mm_take_strs(c, f->nlevels, what, prefix, a, &f->levels, err) ||
				!mm_check_levels(f, fno, err))
				return false;
		}
		snprintf(label, sizeof(label), "feature %u impute code", (unsigned) fno);
		if (!mm_take_u8(c, label, &f->impute, err))
			return false;
		if (f->impute != MM_IMPUTE_ERROR && f->impute <= MM_IMPUTE_MOST_FREQUENT)
		{
			snprintf(label, sizeof(label), "fill values of feature %u", (unsigned) fno);
			if (!mm_take_f64s(c, f->width, label, a, &f->fill, err))
				return false;
		}
		if (!mm_check_impute(f, fno, err))
			return false;
	}
	m->ncols = (uint32_t) ncols;
	return true;
}

/* Read the scaling and the labels of a version 2 payload into m. */
static bool
mm_read_scale_labels(MmCursor *c, MmModel *m, const MmAlloc *a, MmErr *err)
{
	if (!mm_take_u8(c, "scale code", &m->scale, err))
		return false;
	if (m->scale != MM_SCALE_NONE && m->scale <= MM_SCALE_MINMAX)
	{
		if (!mm_take_f64s(c, m->ncols, "centres", a, &m->center, err) ||
			!mm_take_f64s(c, m->ncols, "scale values", a, &m->scalev, err))
			return false;
	}
	if (!mm_check_scale(m, err))
		return false;

	if (!mm_take_u8(c, "label type", &m->label_type, err))
		return false;
	if (!mm_check_label_type(m, err))
		return false;
	if (m->label_type == MM_LABEL_NONE)
		return true;
	if (!mm_take_u32(c, "class count", &m->nclasses, err))
		return false;
	if (!mm_check_nclasses(m->nclasses, err))
		return false;
	return mm_take_strs(c, m->nclasses, "labels", "label", a, &m->labels, err) &&
		mm_check_labels(m, err);
}

/* Read the section of linear_regression and ridge into m. */
static bool
mm_read_linear(MmCursor *c, MmModel *m, const MmAlloc *a, MmErr *err)
{
	const uint8_t *p;
	uint32_t	ncoef;

	if ((p = mm_take(c, MM_LINEAR_FIXED, "linear model section", err)) == NULL)
		return false;
	if (p[0] > 1)
	{
		mm_err_set(err, "fit_intercept must be 0 or 1, not %u", (unsigned) p[0]);
		return false;
	}
	m->fit_intercept = p[0] == 1;
	m->alpha = mm_get_f64(p + 1);
	m->intercept = mm_get_f64(p + 9);
	ncoef = mm_get_u32(p + 17);
	if (ncoef != m->ncols)
	{
		mm_err_set(err, "coefficient count %u does not match the encoded width %u",
				   (unsigned) ncoef, (unsigned) m->ncols);
		return false;
	}
	if (!mm_take_f64s(c, ncoef, "coefficients", a, &m->coef, err) ||
		!mm_check_linear(m, err))
		return false;
	if (m->algorithm >= MM_ALG_LASSO &&
		!mm_take_f64(c, "l1_ratio", &m->l1_ratio, err))
		return false;
	return mm_check_l1_ratio(m, err);
}

/* Read the section of logistic_regression into m. */
static bool
mm_read_logistic(MmCursor *c, MmModel *m, const MmAlloc *a, MmErr *err)
{
	const uint8_t *p;
	size_t		n;

	if ((p = mm_take(c, MM_LOGISTIC_FIXED, "logistic model section", err)) == NULL)
		return false;
	if (p[0] > 1)
	{
		mm_err_set(err, "fit_intercept must be 0 or 1, not %u", (unsigned) p[0]);
		return false;
	}
	m->fit_intercept = p[0] == 1;
	m->penalty = p[1];
	m->C = mm_get_f64(p + 2);
	m->nsets = mm_get_u32(p + 10);
	if (!mm_check_logistic_head(m, err))
		return false;
	if (!mm_mul_size(m->nsets, m->ncols, &n))
	{
		mm_err_set(err, "blob truncated: %u x %u coefficients need more than the %zu bytes that remain",
				   (unsigned) m->nsets, (unsigned) m->ncols, c->len - c->pos);
		return false;
	}
	return mm_take_f64s(c, n, "coefficients", a, &m->coefs, err) &&
		mm_take_f64s(c, m->nsets, "intercepts", a, &m->intercepts, err) &&
		mm_check_logistic_weights(m, err);
}

/* Read the section of naive_bayes into m. */
static bool
mm_read_nb(MmCursor *c, MmModel *m, const MmAlloc *a, MmErr *err)
{
	size_t		kp;
	size_t		need;
	const uint8_t *p;
	uint32_t	j;

	if (!mm_take_f64(c, "var_smoothing", &m->var_smoothing, err) ||
		!mm_take_f64(c, "naive bayes alpha", &m->nb_alpha, err) ||
		!mm_take_f64(c, "epsilon", &m->nb.epsilon, err))
		return false;
	if (!mm_check_nb_head(m, err))
		return false;
	m->nb.K = (int) m->nclasses;
	m->nb.p = (int) m->ncols;

	/*
	 * Everything that follows has a known size: check it all, with
	 * overflow-checked arithmetic, before the first allocation.
	 */
	if (!mm_mul_size(m->nclasses, m->ncols, &kp) ||
		!mm_mul_size(kp, 24, &need) ||
		!mm_add_size(need, (size_t) 8 * m->nclasses + (size_t) 4 * m->ncols, &need) ||
		need > c->len - c->pos)
	{
		mm_err_set(err, "blob truncated: naive bayes statistics for %u classes and %u columns need more than the %zu bytes that remain",
				   (unsigned) m->nclasses, (unsigned) m->ncols, c->len - c->pos);
		return false;
	}
	if (!mm_take_f64s(c, m->nclasses, "log priors", a, &m->nb.log_prior, err) ||
		!mm_take_f64s(c, kp, "means", a, &m->nb.theta, err) ||
		!mm_take_f64s(c, kp, "variances", a, &m->nb.var, err) ||
		!mm_take_f64s(c, kp, "log probabilities", a, &m->nb.log_prob, err))
		return false;
	if ((p = mm_take(c, (size_t) 4 * m->ncols, "groups", err)) == NULL)
		return false;
	m->nb.group = mm_alloc0(a, sizeof(int32_t) * m->ncols);
	for (j = 0; j < m->ncols; j++)
		m->nb.group[j] = (int32_t) mm_get_u32(p + (size_t) 4 * j);
	if (!mm_check_nb_stats(m, err))
		return false;
	mm_nb_prepare(&m->nb, a);
	return true;
}

/* Read the section of kmeans into m. */
static bool
mm_read_kmeans(MmCursor *c, MmModel *m, const MmAlloc *a, MmErr *err)
{
	size_t		n;

	if (!mm_take_u32(c, "cluster count", &m->k, err) ||
		!mm_take_f64(c, "inertia", &m->inertia, err) ||
		!mm_check_kmeans_head(m, err))
		return false;
	/* k <= MM_MAX_CLASSES and ncols <= MM_MAX_COLS: the product fits */
	n = (size_t) m->k * m->ncols;
	return mm_take_f64s(c, n, "cluster centres", a, &m->centers, err) &&
		mm_check_values(m->centers, n, MM_RULE_FINITE, "centre value",
						"cluster", m->ncols, err);
}

/* Read the section of pca into m. */
static bool
mm_read_pca(MmCursor *c, MmModel *m, const MmAlloc *a, MmErr *err)
{
	uint8_t		whiten;

	if (!mm_take_u32(c, "component count", &m->n_components, err) ||
		!mm_take_u8(c, "whiten flag", &whiten, err))
		return false;
	if (whiten > 1)
	{
		mm_err_set(err, "whiten must be 0 or 1, not %u", (unsigned) whiten);
		return false;
	}
	m->whiten = whiten == 1;
	if (!mm_check_pca_head(m, err))
		return false;
	return mm_take_f64s(c, m->ncols, "means", a, &m->pca_mean, err) &&
		mm_take_f64s(c, (size_t) m->n_components * m->ncols, "components", a,
					 &m->components, err) &&
		mm_take_f64s(c, m->n_components, "explained variances", a,
					 &m->explained_variance, err) &&
		mm_check_pca_values(m, err);
}

/* Read the section of mlp into m. */
static bool
mm_read_mlp(MmCursor *c, MmModel *m, const MmAlloc *a, MmErr *err)
{
	MmMlp	   *net = &m->mlp;
	uint8_t		activation;
	uint32_t	nlayers;
	uint32_t	v;
	size_t		nparams;
	int			l;

	if (!mm_take_u8(c, "activation", &activation, err) ||
		!mm_take_u32(c, "layer count", &nlayers, err))
		return false;
	if (nlayers < 1 || nlayers > MM_MLP_MAX_LAYERS + 1)
	{
		mm_err_set(err, "layer count %u is out of range 1..%d",
				   (unsigned) nlayers, MM_MLP_MAX_LAYERS + 1);
		return false;
	}
	net->activation = activation;
	net->nlayers = (int) nlayers;
	net->classification = m->task == MM_TASK_CLASSIFICATION;
	for (l = 0; l <= net->nlayers; l++)
	{
		if (!mm_take_u32(c, "layer size", &v, err))
			return false;
		if (v < 1 || v > MM_MAX_COLS)
		{
			mm_err_set(err, "layer %d size %u is out of range 1..%d",
					   l + 1, (unsigned) v, MM_MAX_COLS);
			return false;
		}
		net->size[l] = (int) v;
	}
	if (!mm_check_mlp_shape(m, &nparams, err))
		return false;
	if (!mm_room_for(c, nparams, 8, true, "network weights", err))
		return false;
	net->W = mm_alloc0(a, sizeof(double *) * (size_t) net->nlayers);
	net->b = mm_alloc0(a, sizeof(double *) * (size_t) net->nlayers);
	for (l = 0; l < net->nlayers; l++)
		if (!mm_take_f64s(c, (size_t) net->size[l + 1] * net->size[l], "weights", a,
						  &net->W[l], err) ||
			!mm_take_f64s(c, net->size[l + 1], "biases", a, &net->b[l], err))
			return false;
	return mm_check_mlp_values(m, err);
}

/*
 * Read one embedded model (a member, or a stacking's final model): a u32
 * length and that many bytes of a whole blob, which must not itself be an
 * ensemble (so nesting stops at one level whatever the bytes say).
 */
static bool
mm_read_part(MmCursor *c, const char *what, const MmAlloc *a, MmModel **out, MmErr *err)
{
	uint32_t	len;
	const uint8_t *p;
	MmErr		inner;
	uint16_t	algorithm;

	if (!mm_take_u32(c, what, &len, err) || (p = mm_take(c, len, what, err)) == NULL)
		return false;
	if (len >= 8)
	{
		algorithm = mm_get_u16(p + 6);
		if (algorithm == MM_ALG_ENSEMBLE || algorithm == MM_ALG_STACKING)
		{
			mm_err_set(err, "%s is itself an ensemble", what);
			return false;
		}
		/* the writer stores members as it writes models: a blob reads back byte for byte */
		if (mm_algorithm_name(algorithm) != NULL &&
			mm_get_u16(p + 4) != mm_blob_version_for(algorithm))
		{
			mm_err_set(err, "%s is in blob format version %u, not %d", what,
					   (unsigned) mm_get_u16(p + 4), mm_blob_version_for(algorithm));
			return false;
		}
	}
	if (mm_blob_read(p, len, a, out, &inner) != MM_OK)
	{
		mm_err_set(err, "%s: %s", what, inner.msg);
		return false;
	}
	return true;
}

/* Read the section of an ensemble or a stacking into m, and link it. */
static bool
mm_read_ensemble(MmCursor *c, MmModel *m, const MmAlloc *a, MmErr *err)
{
	char		what[32];

	if (!mm_take_u8(c, "ensemble method", &m->method, err) ||
		!mm_take_u32(c, "member count", &m->nmembers, err))
		return false;
	if (m->nmembers < 2 || m->nmembers > MM_MAX_MEMBERS)
	{
		mm_err_set(err, "member count %u is out of range 2..%d",
				   (unsigned) m->nmembers, MM_MAX_MEMBERS);
		return false;
	}
	if (!mm_take_f64s(c, m->nmembers, "member weights", a, &m->weights, err))
		return false;
	m->members = mm_alloc0(a, sizeof(MmModel *) * m->nmembers);
	for (uint32_t i = 0; i < m->nmembers; i++)
	{
		snprintf(what, sizeof(what), "member %u", (unsigned) i + 1);
		if (!mm_read_part(c, what, a, &m->members[i], err))
			return false;
	}
	if (m->algorithm == MM_ALG_STACKING &&
		!mm_read_part(c, "the final model", a, &m->final, err))
		return false;
	return mm_ensemble_link(m, a, err) == MM_OK;
}

/* Validate and decode the blob in buf[len] into a model allocated via a. */
MmStatus
mm_blob_read(const uint8_t *buf, size_t len, const MmAlloc *a,
			 MmModel **out, MmErr *err)
{
	MmCursor	c;
	MmModel    *m;
	uint16_t	version;
	uint16_t	algorithm;
	bool		ok;

	if (buf == NULL && len > 0)
	{
		mm_err_set(err, "blob is null");
		return MM_EINVAL;
	}
	if (!mm_read_header(buf, len, &version, &algorithm, err))
		return MM_ECORRUPT;

	c.p = buf + MM_BLOB_HEADER_SIZE;
	c.len = len - MM_BLOB_HEADER_SIZE;
	c.pos = 0;

	/* version 1 leaves the defaults: impute error, no scaling, no labels */
	m = mm_alloc0(a, sizeof(MmModel));
	m->algorithm = algorithm;
	if (!mm_take_u8(&c, "task", &m->task, err) ||
		!mm_check_task(algorithm, m->task, err))
		return MM_ECORRUPT;
	if (!mm_supervised_task(m->task))
	{
		const uint8_t *p = mm_take(&c, 2, "target name length", err);

		if (p == NULL)
			return MM_ECORRUPT;
		if (mm_get_u16(p) != 0)
		{
			mm_err_set(err, "a %s model has no target, but the target name length is %u",
					   mm_task_name(m->task), (unsigned) mm_get_u16(p));
			return MM_ECORRUPT;
		}
	}
	else if ((m->target = mm_take_str(&c, "target name", MM_MAX_NAME, a, err)) == NULL)
		return MM_ECORRUPT;
	if (!mm_read_features(&c, version, m, a, err))
		return MM_ECORRUPT;
	if (version >= 2 && !mm_read_scale_labels(&c, m, a, err))
		return MM_ECORRUPT;

	switch (algorithm)
	{
		case MM_ALG_LOGISTIC_REGRESSION:
			ok = mm_read_logistic(&c, m, a, err);
			break;
		case MM_ALG_NAIVE_BAYES:
			ok = mm_read_nb(&c, m, a, err);
			break;
		case MM_ALG_KMEANS:
			ok = mm_read_kmeans(&c, m, a, err);
			break;
		case MM_ALG_PCA:
			ok = mm_read_pca(&c, m, a, err);
			break;
		case MM_ALG_MLP:
			ok = mm_read_mlp(&c, m, a, err);
			break;
		case MM_ALG_ENSEMBLE:
		case MM_ALG_STACKING:
			ok = mm_read_ensemble(&c, m, a, err);
			break;
		default:
			ok = mm_read_linear(&c, m, a, err);
			break;
	}
	if (!ok)
		return MM_ECORRUPT;

	if (c.pos != c.len)
	{
		mm_err_set(err, "%zu trailing bytes after the model", c.len - c.pos);
		return MM_ECORRUPT;
	}
	*out = m;
	return MM_OK;
}
