/*
 * mm_core.h
 *	  The pure C11 heart of massmodel: status codes, the allocator the glue
 *	  passes in, the model blob format, linear models, metrics and the
 *	  deterministic train/held-out split.
 *
 * Nothing here includes postgres.h.  Functions take plain arrays and sizes
 * and return an MmStatus with a message in an MmErr; the PostgreSQL glue
 * turns those into ereport().  All memory is obtained through an MmAlloc so
 * that the glue can hand out palloc() memory in a context it owns: a cancel
 * or error that longjmps out of the core leaks nothing.  The core never
 * frees memory it returns to the caller; the caller's context does that.
 *
 * Everything is deterministic: same inputs, same outputs, byte for byte.
 */
#ifndef MM_CORE_H
#define MM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------
 * Status, errors, allocation
 * --------------------------------------------------------------------- */

typedef enum MmStatus
{
	MM_OK = 0,
	MM_EINVAL,					/* invalid argument from the caller */
	MM_ECORRUPT,				/* a blob failed validation */
	MM_ENUMERIC,				/* non-finite value or numerical failure */
	MM_ENODATA,					/* too few rows for the model */
	MM_ELIMIT					/* a size limit was exceeded */
} MmStatus;

#define MM_ERR_LEN 256

typedef struct MmErr
{
	char		msg[MM_ERR_LEN];	/* lower case, no final period */
} MmErr;

/* printf-style; always NUL-terminates; err may be NULL */
void		mm_err_set(MmErr *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/*
 * The allocator.  alloc() returns memory aligned for double, or does not
 * return at all (palloc raises an error; the unit tests' malloc wrapper
 * aborts).  The core therefore never checks for NULL.
 */
typedef struct MmAlloc
{
	void	   *(*alloc) (void *ctx, size_t size);
	void	   *ctx;
} MmAlloc;

/* zeroed allocation through a */
void	   *mm_alloc0(const MmAlloc *a, size_t size);

/* size helpers: return false on overflow instead of wrapping */
bool		mm_mul_size(size_t a, size_t b, size_t *out);
bool		mm_add_size(size_t a, size_t b, size_t *out);

/* ---------------------------------------------------------------------
 * CRC-32C (Castagnoli), as in iSCSI / PostgreSQL's pg_crc32c
 * crc32c("123456789") == 0xE3069283
 * --------------------------------------------------------------------- */
uint32_t	mm_crc32c(const void *data, size_t len);

/* ---------------------------------------------------------------------
 * Deterministic split.
 *
 * mm_split_u() hashes the bit patterns of the n values of one row together
 * with the seed into a number uniform in [0, 1).  A row is held out when
 * mm_split_u(...) < test_fraction.  The result depends only on the seed
 * and the values (never on row order), so the same rows always split the
 * same way, serial or parallel.  -0.0 hashes like 0.0.
 * --------------------------------------------------------------------- */
double		mm_split_u(uint64_t seed, const double *vals, int n);

/* ---------------------------------------------------------------------
 * Co-moments: the sufficient statistics of linear models.
 *
 * For d columns (column 0 is the target y, columns 1..d-1 the encoded
 * features) the running state is
 *	 n			number of rows (a double so that it merges like the rest)
 *	 mean[d]	column means
 *	 C[d*d]		centred cross-products sum_i (r_i - mean)(r_i - mean)',
 *				column-major; only the upper triangle (row <= col) is
 *				maintained and read
 * Rows arrive in blocks: each block is centred on its own mean (two passes
 * over the block), folded with one BLAS dsyrk, and merged with Chan et al.'s
 * pairwise update.  Data are never squared before centring, which keeps
 * the digits of ill-conditioned inputs (NIST Longley).
 * --------------------------------------------------------------------- */

/* block is nb rows of d values, row after row (row-major); work holds
 * d*nb + 2*d doubles.  Values must be finite (the caller checks). */
void		mm_moments_add_block(int d, double *n, double *mean, double *C,
								 const double *block, int nb, double *work);

/* (n_a, mean_a, C_a) += (n_b, mean_b, C_b) */
void		mm_moments_merge(int d, double *n_a, double *mean_a, double *C_a,
							 double n_b, const double *mean_b, const double *C_b);

/* ---------------------------------------------------------------------
 * Linear models: ordinary least squares and ridge, solved from co-moments.
 *
 * objective (scikit-learn's):	 ||y - b0 - X w||^2 + alpha ||w||^2
 * with the intercept b0 never penalised.  With fit_intercept the centred
 * system (Cxx + alpha I) w = Cxy is solved and b0 = mean_y - mean_x'w;
 * without it the raw system (X'X + alpha I) w = X'y with b0 = 0.  The
 * system is equilibrated by its diagonal and solved with Cholesky
 * (LAPACK dpotrf/dpotrs); when it is not positive definite or is
 * numerically singular (reciprocal condition < d * eps), the
 * minimum-norm solution is computed from a symmetric eigendecomposition
 * (dsyevd) with eigenvalues below max_eig * d * eps treated as zero,
 * which equals numpy.linalg.lstsq's answer for rank-deficient X.
 * --------------------------------------------------------------------- */
typedef struct MmLinearParams
{
	bool		fit_intercept;
	double		alpha;			/* 0 for ordinary least squares */
} MmLinearParams;

typedef struct MmLinearFit
{
	int			rank;			/* numerical rank of the solved system */
	bool		used_fallback;	/* true when the eigen solve was used */
} MmLinearFit;

/* p = d - 1 features; coef has p slots */
MmStatus	mm_linear_fit(int p, double n, const double *mean, const double *C,
						  const MmLinearParams *params, double *coef,
						  double *intercept, MmLinearFit *info,
						  const MmAlloc *a, MmErr *err);

/* ---------------------------------------------------------------------
 * Regression metrics, streamed (mergeable).  Conventions of
 * sklearn.metrics: r2 = 1 - SS_res/SS_tot and explained_variance =
 * 1 - Var(y - yhat)/Var(y), each 1.0 when both numerator and denominator
 * are 0 and 0.0 when only the denominator is 0 (force_finite=True).
 * --------------------------------------------------------------------- */
typedef struct MmRegMetrics
{
	double		n;
	double		sum_abs;		/* sum |y - yhat| */
	double		sum_sq;			/* sum (y - yhat)^2 */
	double		mean_y,
				m2_y;			/* Welford: mean and sum of squared deviations of y */
	double		mean_e,
				m2_e;			/* the same for e = y - yhat */
} MmRegMetrics;

typedef struct MmRegResult
{
	double		n,
				mse,
				rmse,
				mae,
				r2,
				explained_variance;
} MmRegResult;

void		mm_regmetrics_init(MmRegMetrics *m);
void		mm_regmetrics_add(MmRegMetrics *m, double y, double yhat);
void		mm_regmetrics_merge(MmRegMetrics *a, const MmRegMetrics *b);
/* false when m->n == 0 */
bool		mm_regmetrics_result(const MmRegMetrics *m, MmRegResult *out);

/* ---------------------------------------------------------------------
 * Models and the blob format.
 *
 * A model is a feature schema plus an algorithm's parameters.  The blob
 * (all integers and doubles little-endian, doubles IEEE-754 binary64):
 *
 *	 offset size
 *	 0		4	 magic "MMDL"
 *	 4		2	 format version (MM_BLOB_VERSION)
 *	 6		2	 algorithm (MmAlgorithm)
 *	 8		4	 flags: reserved, must be zero
 *	 12		4	 payload length in bytes (header excluded)
 *	 16		4	 CRC-32C of the payload
 *	 20		4	 reserved, must be zero
 *	 24		...	 payload:
 *		u8	 task (MmTask)
 *		str	 target name (u16 length + bytes, no NUL, 1..NAMEDATALEN-1)
 *		u32	 number of features F (1..MM_MAX_FEATURES)
 *		F times: str name, u8 kind (MmFeatureKind), u32 width
 *				 (1 for numeric; 1..MM_MAX_WIDTH for arrays)
 *		algorithm section; for linear_regression and ridge:
 *		u8	 fit_intercept (0 or 1)
 *		f64	 alpha (finite, >= 0)
 *		f64	 intercept
 *		u32	 number of coefficients, equal to the sum of the widths
 *		f64	 coefficients
 *	 the payload must end exactly after the algorithm section.
 *
 * The reader checks the header, the CRC, every length against the bytes
 * that remain, every count against its limit and every product for
 * overflow before it allocates, names for being non-empty without NUL
 * bytes, and every double for finiteness.  It never trusts the blob.
 * --------------------------------------------------------------------- */

#define MM_BLOB_MAGIC		"MMDL"
#define MM_BLOB_VERSION		1
#define MM_BLOB_HEADER_SIZE 24
#define MM_MAX_FEATURES		1600	/* columns of a relation, at most */
#define MM_MAX_WIDTH		100000	/* elements of one array feature */
#define MM_MAX_NAME			63		/* bytes of a column name */
#define MM_MAX_COLS			1000000 /* encoded columns of a model */

typedef enum MmAlgorithm
{
	MM_ALG_LINEAR_REGRESSION = 1,
	MM_ALG_RIDGE = 2
} MmAlgorithm;

typedef enum MmTask
{
	MM_TASK_REGRESSION = 1,
	MM_TASK_CLASSIFICATION = 2,
	MM_TASK_CLUSTERING = 3,
	MM_TASK_DECOMPOSITION = 4
} MmTask;

typedef enum MmFeatureKind
{
	MM_FEAT_NUMERIC = 1,		/* one column, one encoded value */
	MM_FEAT_ARRAY = 2			/* float4[]/float8[] of fixed width */
} MmFeatureKind;

typedef struct MmFeature
{
	char	   *name;			/* NUL-terminated */
	uint8_t		kind;			/* MmFeatureKind */
	uint32_t	width;			/* encoded values */
} MmFeature;

typedef struct MmModel
{
	uint16_t	algorithm;		/* MmAlgorithm */
	uint8_t		task;			/* MmTask */
	char	   *target;
	uint32_t	nfeatures;
	MmFeature  *features;
	uint32_t	ncols;			/* sum of widths: the encoded row length */

	/* linear_regression, ridge */
	bool		fit_intercept;
	double		alpha;
	double		intercept;
	double	   *coef;			/* ncols */
} MmModel;

/* name of an algorithm ("linear_regression"), or NULL */
const char *mm_algorithm_name(int algorithm);
/* algorithm id for a name, or 0 */
int			mm_algorithm_from_name(const char *name);
const char *mm_task_name(int task);

/* exact size of the blob of m; 0 when m is invalid or too large */
size_t		mm_blob_size(const MmModel *m);
/* writes exactly mm_blob_size(m) bytes to buf (len must be at least that) */
MmStatus	mm_blob_write(const MmModel *m, uint8_t *buf, size_t len, MmErr *err);
/* validates and decodes; *out allocated through a */
MmStatus	mm_blob_read(const uint8_t *buf, size_t len, const MmAlloc *a,
						 MmModel **out, MmErr *err);

/* the regression value for one encoded row x[ncols] (linear models) */
static inline double
mm_linear_predict(const MmModel *m, const double *x)
{
	double		s = m->intercept;

	for (uint32_t j = 0; j < m->ncols; j++)
		s += m->coef[j] * x[j];
	return s;
}

#endif							/* MM_CORE_H */
