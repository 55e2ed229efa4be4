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

/* whether this CPU has AVX2 and FMA (x86-64 with GCC or Clang), asked once */
int			mm_cpu_avx2(void);

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
void	   *mm_alloc(const MmAlloc *a, size_t size);	/* not zeroed */

/* size helpers: return false on overflow instead of wrapping */
bool		mm_mul_size(size_t a, size_t b, size_t *out);
bool		mm_add_size(size_t a, size_t b, size_t *out);
/*
 * The n x p values of X (row-major) fit in memory and are finite: MM_OK,
 * MM_ELIMIT, or MM_EINVAL naming the first bad value (rows and columns
 * from 1); what prefixes the message ("logistic regression").
 */
MmStatus	mm_check_matrix(const char *what, int64_t n, int p, const double *X,
							MmErr *err);
/* mean[p] = the column means of X (n >= 1 rows), checking finiteness as above */
MmStatus	mm_column_means(const char *what, int64_t n, int p, const double *X,
							double *mean, MmErr *err);

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
 * over the block), folded with a dsyrk (an AVX2 kernel of ours, or BLAS),
 * and merged with Chan et al.'s
 * pairwise update.  Data are never squared before centring, which keeps
 * the digits of ill-conditioned inputs (NIST Longley).
 * --------------------------------------------------------------------- */

/* d rounded up to a multiple of 8: the stride of a centred block's rows */
#define MM_MOMENTS_PAD(d)	(((d) + 7) & ~7)
/* the widest d the AVX2 kernel folds (past it BLAS dsyrk is as fast) */
#define MM_MOMENTS_KERNEL_MAX_D 64
/* the doubles of work that mm_moments_add_block needs for nb rows */
#define MM_MOMENTS_WORK(d, nb) \
	((size_t) MM_MOMENTS_PAD(d) * ((size_t) (nb) + 2 + \
		((d) <= MM_MOMENTS_KERNEL_MAX_D ? MM_MOMENTS_PAD(d) : 0)))

/* block is nb rows of d values, row after row (row-major); work holds
 * MM_MOMENTS_WORK(d, nb) doubles.  Values must be finite (the caller
 * checks). */
void		mm_moments_add_block(int d, double *n, double *mean, double *C,
								 const double *block, int nb, double *work);

/* the kernel mm_moments_add_block uses: -1 (the CPU's, chosen at the first
 * block), 0 BLAS dsyrk, 1 AVX2/FMA (only where the CPU has it) */
extern int	mm_moments_avx2;
/* mm_moments_avx2, chosen from the CPU when it is still -1 */
int			mm_moments_kernel(void);

/* C (upper, column-major, ldc) += alpha * A'A for nb rows of d values of A
 * (row-major, stride lda); Cb: MM_MOMENTS_PAD(d)^2 doubles of work, used
 * by the AVX2 kernel when lda == MM_MOMENTS_PAD(d) and d <= 64 */
void		mm_syrk_add(int d, int nb, double alpha, const double *A, int lda,
						double *C, int ldc, double *Cb);

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
/*
 * The rows are folded a block of MM_METRICS_BLOCK at a time (two passes
 * over the block, then Chan's merge): row by row, Welford's running mean
 * is one long chain of divisions, each waiting on the last.  Rows wait in
 * pend until their block is full, so the state after the same rows in the
 * same order is the same bits however they were added (one by one, or in
 * blocks of any size).
 */
#define MM_METRICS_BLOCK 256
typedef struct MmRegMetrics
{
	double		n;				/* rows folded (not those pending) */
	double		sum_abs;		/* sum |y - yhat| */
	double		sum_sq;			/* sum (y - yhat)^2 */
	double		mean_y,
				m2_y;			/* mean and sum of squared deviations of y */
	double		mean_e,
				m2_e;			/* the same for e = y - yhat */
	int			npend;			/* rows waiting for their block */
	double		pend_y[MM_METRICS_BLOCK];
	double		pend_e[MM_METRICS_BLOCK];
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
/* nb rows at once, as nb calls of mm_regmetrics_add: y[i * ystride], yhat[i] */
void		mm_regmetrics_add_rows(MmRegMetrics *m, const double *y, size_t ystride,
								   const double *yhat, int nb);
void		mm_regmetrics_merge(MmRegMetrics *a, const MmRegMetrics *b);
/* false when m->n == 0 */
bool		mm_regmetrics_result(const MmRegMetrics *m, MmRegResult *out);

/* ---------------------------------------------------------------------
 * Progress and cancellation of long loops.
 *
 * Iterative solvers call fn(arg, iteration, loss) about once per
 * iteration (at least every few milliseconds of work; loss NaN when a
 * call within an iteration has no new value).  The glue's
 * callback runs CHECK_FOR_INTERRUPTS(), which may longjmp out of the
 * core: the core holds nothing that such an exit could leak (all memory
 * comes from the caller's MmAlloc).  A NULL MmProgress is allowed.
 * --------------------------------------------------------------------- */
typedef struct MmProgress
{
	void		(*fn) (void *arg, int iteration, double loss);
	void	   *arg;
} MmProgress;

/* ---------------------------------------------------------------------
 * Classification metrics, streamed.  Conventions of sklearn.metrics
 * (1.2): accuracy; precision, recall and f1 macro-averaged over the K
 * classes of the model, a class with no predicted (or no true) rows
 * counting 0 (zero_division=0); log_loss = mean of -log(max(p_true,
 * 1e-15)) with p renormalised to sum 1; roc_auc for K == 2 only, the score
 * being the probability of class 1, ties counted one half (exact, from all
 * scores kept through the allocator).  The predicted class is the argmax of
 * the probabilities, the lowest index on ties.
 * --------------------------------------------------------------------- */
typedef struct MmClsMetrics
{
	int			K;
	double		n;
	double	   *confusion;		/* K*K, [true * K + predicted] */
	double		log_loss_sum;
	/* binary: the scores and labels for roc_auc */
	int64_t		nscores;
	int64_t		capscores;
	double	   *scores;
	uint8_t    *positive;
	/* binary, after mm_clsmetrics_sort: earlier scores as sorted keys */
	bool		sorted;
	bool		nan_score;		/* one of them was NaN */
	uint64_t   *keys[2];		/* [0] the negatives', [1] the positives' */
	int64_t		nkeys[2];
	const MmAlloc *a;
} MmClsMetrics;

typedef struct MmClsResult
{
	double		n,
				accuracy,
				precision,
				recall,
				f1,
				log_loss,
				roc_auc;		/* NaN unless K == 2 and both classes occur */
} MmClsResult;

void		mm_clsmetrics_init(MmClsMetrics *m, int K, const MmAlloc *a);
/* one row: its true class (0..K-1) and the model's K probabilities */
void		mm_clsmetrics_add(MmClsMetrics *m, int true_class, const double *proba);
/* room for n more rows' scores at once (K == 2), when their number is known */
void		mm_clsmetrics_reserve(MmClsMetrics *m, int64_t n);
/* add b's rows to a (of the same K): counts, log loss and scores */
void		mm_clsmetrics_merge(MmClsMetrics *a, const MmClsMetrics *b);
/* sort the scores kept so far into keys by class (K == 2), which merge linearly */
void		mm_clsmetrics_sort(MmClsMetrics *m);
/*
 * sort n doubles (no NaN) ascending through tmp (n keys; for n <= 32
 * unused, may be NULL); -0 becomes +0
 */
void		mm_sort_doubles(double *v, int64_t n, uint64_t *tmp);
/* false when m->n == 0 */
bool		mm_clsmetrics_result(const MmClsMetrics *m, MmClsResult *out);

/* ---------------------------------------------------------------------
 * Logistic regression, binary and multinomial.
 *
 * X is n rows of p values (row-major), y the class of each row in
 * 0..K-1, K >= 2.  Objective (scikit-learn's):
 *	 C * sum_i log_loss_i + 1/2 ||W||^2		(penalty l2; intercepts unpenalised)
 *	 sum_i log_loss_i						(penalty none)
 * K == 2: one weight vector w and intercept b, P(class 1) = 1/(1+e^-(b+w'x)).
 * K > 2: softmax with K weight vectors (row k of coef, intercept[k]);
 * with penalty none the softmax is over-parametrised, and the last
 * class's vector is fixed at zero (the probabilities are the same).
 * Solver: Newton's method with a backtracking line search, Hessian by
 * BLAS (dsyrk/dgemm) and solved by LAPACK Cholesky, until the max-norm of
 * the gradient is at most tol * max(1, |objective|) or max_iter.
 * Perfectly separable data with penalty none: MM_ESEPARABLE.
 * --------------------------------------------------------------------- */
#define MM_ESEPARABLE MM_ENUMERIC	/* with a message naming separation */

typedef struct MmLogisticParams
{
	int			penalty;		/* 0 none, 2 l2 */
	double		C;				/* > 0 */
	bool		fit_intercept;
	int			max_iter;		/* Newton iterations */
	double		tol;
	/* warm start: nsets*p coefficients and nsets intercepts, or NULL (zeros) */
	const double *init_coef;
	const double *init_intercept;
} MmLogisticParams;

typedef struct MmLogisticInfo
{
	int			iterations;
	double		grad_norm;		/* max-norm of the final gradient */
	double		objective;
	bool		converged;
} MmLogisticInfo;

/* number of weight vectors: 1 for K == 2, K otherwise */
#define mm_logistic_nsets(K) ((K) == 2 ? 1 : (K))

/* coef: nsets*p (row k = class k, or class 1 when binary); intercept: nsets */
MmStatus	mm_logistic_fit(int64_t n, int p, int K, const double *X,
							const int32_t *y, const MmLogisticParams *params,
							double *coef, double *intercept, MmLogisticInfo *info,
							const MmProgress *progress, const MmAlloc *a, MmErr *err);
/*
 * The fit of rows held by several processes (parallel workers): each has
 * a part of the rows, whose loss sum and parts of the gradient and the
 * Hessian for the solver's theta (m values) add up across the parts; the
 * solver asks for them through sum.  Its start may be the fit of a
 * subsample of every MM_LOGISTIC_STRIDE-th row of each part.
 */
#define MM_LOGISTIC_STRIDE 16
#define MM_LOGISTIC_SUBSAMPLE_MIN 200000	/* rows from which a fit starts from a subsample's */
typedef struct MmLogitPart MmLogitPart;
typedef double (*MmLogitSumFn) (void *arg, const double *theta, double *grad, double *H);

MmStatus	mm_logit_part_new(int64_t n, int p, int K, const double *X, const int32_t *y,
							  const MmLogisticParams *params, const MmProgress *progress,
							  MmLogitPart **out, const MmAlloc *a, MmErr *err);
int			mm_logit_part_nparams(const MmLogitPart *P);
double		mm_logit_part_eval(MmLogitPart *P, const double *theta, double *grad, double *H);
bool		mm_logistic_subsample_start(int64_t n, int64_t ns, int p, int K, const double *Xs,
										const int32_t *ys, const MmLogisticParams *params,
										double *coef, double *intercept, const MmAlloc *a);
MmStatus	mm_logistic_fit_sum(int64_t n, int p, int K, const MmLogisticParams *params,
								MmLogitSumFn sum, void *arg, double *coef, double *intercept,
								MmLogisticInfo *info, const MmProgress *progress,
								const MmAlloc *a, MmErr *err);
/* the K class probabilities of one row x[p] */
void		mm_logistic_proba(int p, int K, const double *coef,
							  const double *intercept, const double *x, double *proba);

/* ---------------------------------------------------------------------
 * Naive Bayes: Gaussian for numeric columns, categorical for one-hot groups.
 *
 * group[j] is -1 for a numeric column and g >= 0 for a column of one-hot
 * group g (the columns of a group are contiguous).  Gaussian part as
 * sklearn's GaussianNB: per class the mean and the population variance of
 * each numeric column, plus epsilon = var_smoothing * (largest population
 * variance of any numeric column over all rows).  Categorical part as
 * sklearn's CategoricalNB with smoothing alpha: P(level l | class k) =
 * (count_kl + alpha) / (n_k + alpha * L); a row whose group is all zeros
 * (an unseen level) contributes nothing for that group.  Priors are the
 * class frequencies.
 * --------------------------------------------------------------------- */
typedef struct MmNaiveBayes
{
	int			K;
	int			p;
	double	   *log_prior;		/* K */
	double	   *theta;			/* K*p, means (numeric columns; 0 elsewhere) */
	double	   *var;			/* K*p, variances + epsilon (numeric columns) */
	double	   *log_prob;		/* K*p, log P(level | class) (group columns) */
	int32_t    *group;			/* p */
	double		epsilon;
	double	   *log_norm;		/* K: sum over numeric j of log(2 pi var[k][j]),
								 * or NULL (mm_nb_prepare; not stored) */
	double	   *inv_var;		/* K*p: 1 / var of a model of numeric columns
								 * only, or NULL (mm_nb_prepare; not stored) */
} MmNaiveBayes;

/* mm_nb_proba's quadratic form with AVX2 (the same bits): -1 the CPU's
 * choice, 0 no, 1 yes (only where mm_cpu_avx2) */
extern int	mm_nb_avx2;

MmStatus	mm_nb_fit(int64_t n, int p, int K, const double *X, const int32_t *y,
					  const int32_t *group, double var_smoothing, double alpha,
					  MmNaiveBayes *out, const MmAlloc *a, MmErr *err);
/*
 * The fit's statistics in one pass, over parts of the rows that merge
 * (mm_nb.c): per class the row count, the numeric columns' means and
 * squared deviations, the one-hot columns' counts of ones, flat in s
 * (mm_nb_acc_len doubles: count[K], mean[K*p], m2[K*p], ones[K*p]).
 * Rows are folded MM_NB_BLOCK at a time; y is checked by the caller.
 */
#define MM_NB_BLOCK 256

typedef struct MmNbAcc
{
	int			p;
	int			K;				/* classes it has room for */
	bool		all_numeric;
	int32_t    *group;			/* p */
	double	   *s;				/* the statistics, flat */
	int			nb;				/* rows of the pending block */
	double	   *bx;				/* MM_NB_BLOCK * p */
	int32_t    *by;				/* MM_NB_BLOCK */
	int32_t    *present;		/* the block's classes */
	double	   *bcount;			/* K: the block's, 0 between blocks */
	double	   *bsum;			/* K*p */
	double	   *bm2;			/* K*p */
	double	   *bshift;			/* K*p: what the block's rows are taken from */
	const MmAlloc *a;
} MmNbAcc;

size_t		mm_nb_acc_len(int p, int K);
void		mm_nb_acc_init(MmNbAcc *acc, int p, int K, const int32_t *group, const MmAlloc *a);
void		mm_nb_acc_grow(MmNbAcc *acc, int K);
MmStatus	mm_nb_acc_rows(MmNbAcc *acc, const double *X, const int32_t *y, int64_t n,
						   int64_t row0, MmErr *err);
void		mm_nb_acc_flush(MmNbAcc *acc);

/* Where the next row's p values go (a row read in place), then its class. */
static inline double *
mm_nb_acc_slot(MmNbAcc *acc)
{
	return acc->bx + (size_t) acc->nb * acc->p;
}
void		mm_nb_acc_push(MmNbAcc *acc, int32_t y);
bool		mm_nb_acc_merge_flat(MmNbAcc *acc, const double *part, int K, const int32_t *what);
MmStatus	mm_nb_fit_acc(const MmNbAcc *acc, int K, double var_smoothing, double alpha,
						  MmNaiveBayes *out, const MmAlloc *a, MmErr *err);
void		mm_nb_prepare(MmNaiveBayes *nb, const MmAlloc *a);
void		mm_nb_proba(const MmNaiveBayes *nb, const double *x, double *proba);

/* ---------------------------------------------------------------------
 * Lasso and elastic net.
 * --------------------------------------------------------------------- */
typedef struct MmElasticParams
{
	double		alpha;			/* >= 0 */
	double		l1_ratio;		/* 0..1; 1 is the lasso */
	bool		fit_intercept;
	int			max_iter;		/* passes over the coordinates, >= 1 */
	double		tol;			/* > 0 */
} MmElasticParams;

typedef struct MmElasticInfo
{
	int			iterations;		/* passes made */
	double		gap;			/* final duality gap */
	bool		converged;
} MmElasticInfo;

/*
 * scikit-learn's ElasticNet/Lasso: minimises
 * 1/(2n)|y - b0 - Xw|^2 + alpha (l1_ratio |w|_1 + (1 - l1_ratio)/2 |w|^2)
 * by cyclic coordinate descent on centred data (the intercept is the
 * mean residual), stopping when the duality gap is at most tol * |y_c|^2 / n
 * (scikit-learn's criterion, y_c the centred target) or after max_iter
 * passes (converged false).  X: n*p row-major; coef: p; exact zeros where
 * the soft threshold gives them.
 */
MmStatus	mm_elastic_fit(int64_t n, int p, const double *X, const double *y,
						   const MmElasticParams *params, double *coef,
						   double *intercept, MmElasticInfo *info,
						   const MmProgress *progress, const MmAlloc *a, MmErr *err);

/*
 * The same fit from the co-moments of the rows instead of the rows: n rows
 * of d = p + 1 values (the target first, then the features), their means
 * mean[d] and centred co-moments C (d x d, upper triangle C[i + j*d],
 * i <= j), as mm_moments_add_block leaves them.  Coordinate descent on the
 * Gram matrix (scikit-learn's precompute=True form): each pass costs
 * O(p^2) whatever n is, and the iterates and the duality gap are those of
 * mm_elastic_fit up to rounding.
 */
MmStatus	mm_elastic_fit_gram(double n, int p, const double *mean, const double *C,
								const MmElasticParams *params, double *coef,
								double *intercept, MmElasticInfo *info,
								const MmProgress *progress, const MmAlloc *a, MmErr *err);

/* ---------------------------------------------------------------------
 * Deterministic pseudo-random numbers (xoshiro256** seeded by splitmix64):
 * the same seed gives the same stream on every platform.
 * --------------------------------------------------------------------- */
typedef struct MmRng
{
	uint64_t	s[4];
} MmRng;

void		mm_rng_seed(MmRng *r, uint64_t seed);
uint64_t	mm_rng_next(MmRng *r);
/* uniform in [0, 1) */
double		mm_rng_uniform(MmRng *r);
/* uniform integer in [0, n) */
uint64_t	mm_rng_below(MmRng *r, uint64_t n);
/* standard normal (Box-Muller) */
double		mm_rng_normal(MmRng *r);

/* ---------------------------------------------------------------------
 * k-means.
 *
 * Lloyd's algorithm from k-means++ seeds (scikit-learn's greedy variant:
 * 2 + log(k) candidates per centre, the one that lowers the potential
 * most) or k random distinct rows; squared distances by GEMM
 * (|x|^2 - 2 x.c + |c|^2); empty clusters are re-seeded with the row
 * farthest from its centre.  Stops when the centres move by at most tol
 * (relative to the mean variance of the columns, as scikit-learn) or
 * after max_iter; n_init restarts keep the lowest inertia (sum of
 * squared distances to the nearest centre).  Deterministic from seed.
 * --------------------------------------------------------------------- */
typedef struct MmKMeansParams
{
	int			k;
	int			init;			/* 0 k-means++, 1 random rows */
	int			n_init;
	int			max_iter;
	double		tol;
	uint64_t	seed;
} MmKMeansParams;

typedef struct MmKMeansInfo
{
	double		inertia;
	int			iterations;		/* of the best run */
} MmKMeansInfo;

/* centers: k*p, row-major */
MmStatus	mm_kmeans_fit(int64_t n, int p, const double *X,
						  const MmKMeansParams *params, double *centers,
						  MmKMeansInfo *info, const MmProgress *progress,
						  const MmAlloc *a, MmErr *err);
/*
 * The same fit with its passes over the rows shared out (a parallel fit).
 * The rows are cut into parts (runs of whole blocks, at most 32, fixed by
 * n, p and params alone); a pass sets its work in the shared block, then
 * par->run has every part done once, by any process, in any order
 * (mm_kmeans_part on that process's view), and returns when all are; the
 * parts' sums are added in part order, so the model is the same, to the
 * bit, however the parts were shared, and the same as mm_kmeans_fit's.
 * par->shm: mm_kmeans_shared_size bytes laid out by mm_kmeans_shared_init
 * (the rows are copied into it); other processes take their views with
 * mm_kmeans_attach.
 */
typedef struct MmKm MmKm;
typedef struct MmKMeansPar
{
	void	   *shm;
	void		(*run) (void *arg, MmKm *self);
	void	   *arg;
} MmKMeansPar;

MmStatus	mm_kmeans_fit_par(int64_t n, int p, const double *X,
							  const MmKMeansParams *params, double *centers,
							  MmKMeansInfo *info, const MmProgress *progress,
							  const MmAlloc *a, const MmKMeansPar *par, MmErr *err);
/* bytes of the shared block (0: too large or invalid) */
size_t		mm_kmeans_shared_size(int64_t n, int p, const MmKMeansParams *params);
bool		mm_kmeans_shared_init(void *shm, int64_t n, int p, const MmKMeansParams *params);
/* a process's view of the shared block, its scratch from a (NULL: not one) */
MmKm	   *mm_kmeans_attach(void *shm, const MmProgress *progress, const MmAlloc *a);
int			mm_kmeans_nparts(const MmKm *km);
/* the parts of a fit of n rows of p values with params (0: invalid) */
int			mm_kmeans_parts_of(int64_t n, int p, const MmKMeansParams *params);
/* do part number part (0 .. nparts - 1) of the current pass */
void		mm_kmeans_part(MmKm *km, int part);
/* the block distances' kernel: -1 from the CPU, 0 BLAS, 1 AVX2 (tests set it) */
extern int	mm_kmeans_avx2;

/* nearest centre of x (the lowest index on ties); *dist2 its squared distance */
int			mm_kmeans_predict(int k, int p, const double *centers,
							  const double *x, double *dist2);
/*
 * Mean silhouette coefficient of n rows labelled 0..k-1 (scikit-learn's
 * silhouette_score, Euclidean): O(n^2) distances, the caller samples.
 * Returns NaN when fewer than 2 clusters are occupied.
 */
double		mm_silhouette(int64_t n, int p, const double *X, const int32_t *label,
						  int k, const MmAlloc *a);

/* ---------------------------------------------------------------------
 * PCA.
 *
 * Column means, the covariance (n - 1 denominator, as scikit-learn) of
 * the centred rows by dsyrk, its eigendecomposition by LAPACK dsyevr,
 * the n_components largest eigenpairs.  Sign rule: each component is
 * flipped so that its entry of largest absolute value is positive (ties:
 * the first).  explained_variance are the eigenvalues;
 * explained_variance_ratio divides by the total variance.  With whiten,
 * transform divides each coordinate by sqrt(explained_variance).
 * --------------------------------------------------------------------- */
typedef struct MmPcaParams
{
	int			n_components;	/* 1..p */
	bool		whiten;
} MmPcaParams;

/* mean: p; components: n_components*p (row-major); variance, ratio: n_components */
MmStatus	mm_pca_fit(int64_t n, int p, const double *X, const MmPcaParams *params,
					   double *mean, double *components, double *variance,
					   double *ratio, const MmAlloc *a, MmErr *err);
/* out[n_components] = coordinates of x */
void		mm_pca_transform(int p, int nc, const double *mean, const double *components,
							 const double *variance, bool whiten, const double *x,
							 double *out);

/* ---------------------------------------------------------------------
 * Multilayer perceptron.
 *
 * Dense layers: input p -> hidden[0] -> ... -> hidden[L-1] -> output q
 * (q = 1 for regression, K for classification, softmax + cross-entropy;
 * regression: identity output, squared loss / 2).  Activations relu,
 * tanh, sigmoid on hidden layers.  Weights and biases initialised as
 * scikit-learn's MLP: uniform in +-sqrt(f / (fan_in + fan_out)), f = 2
 * for sigmoid and 6 otherwise, drawn from the seed.  Mini-batch training:
 * each epoch shuffles the training rows (seeded), forward and backward
 * passes are GEMMs over the whole batch; sgd with momentum or adam
 * (beta1 0.9, beta2 0.999, eps 1e-8); weight_decay is an L2 penalty
 * alpha/2 |W|^2 (biases not penalised); inverted dropout on hidden
 * layers during training.  early_stopping holds out validation_fraction
 * of the rows (seeded) and stops after patience epochs without
 * improvement of the validation loss, keeping the best weights.
 * Deterministic: the same data, params and seed give the same weights,
 * bit for bit (with one BLAS thread).
 * --------------------------------------------------------------------- */
#define MM_MLP_MAX_LAYERS 16

typedef struct MmMlpParams
{
	int			nhidden;		/* 0..MM_MLP_MAX_LAYERS */
	int			hidden[MM_MLP_MAX_LAYERS];
	int			activation;		/* 0 relu, 1 tanh, 2 sigmoid */
	int			optimizer;		/* 0 sgd, 1 adam */
	double		learning_rate;
	double		momentum;		/* sgd */
	int			epochs;
	int			batch_size;
	double		dropout;		/* 0 <= dropout < 1 */
	double		weight_decay;	/* >= 0 */
	bool		early_stopping;
	double		validation_fraction;
	int			patience;
	uint64_t	seed;
	/* optional: called after each epoch (valid_loss NaN without early stopping) */
	void		(*on_epoch) (void *arg, int epoch, double train_loss, double valid_loss);
	void	   *on_epoch_arg;
} MmMlpParams;

/* the layers of a network: layer l maps size[l] inputs to size[l+1] outputs */
typedef struct MmMlp
{
	int			nlayers;		/* weight layers = nhidden + 1 */
	int			size[MM_MLP_MAX_LAYERS + 2];
	int			activation;
	bool		classification; /* softmax output */
	double	  **W;				/* W[l]: size[l+1] x size[l], row-major */
	double	  **b;				/* b[l]: size[l+1] */
} MmMlp;

typedef struct MmMlpInfo
{
	int			epochs_run;
	double		train_loss;
	double		valid_loss;		/* NaN without early stopping */
	int			best_epoch;
} MmMlpInfo;

/*
 * y: regression targets, or class indices 0..q-1 as doubles.  init: a
 * network of the same shape to start from (warm start), or NULL.
 */
MmStatus	mm_mlp_fit(int64_t n, int p, const double *X, const double *y, int q,
					   bool classification, const MmMlpParams *params,
					   const MmMlp *init, MmMlp *out, MmMlpInfo *info,
					   const MmProgress *progress, const MmAlloc *a, MmErr *err);
/* out[q]: the regression value, or the class probabilities; work: 2 * max size */
void		mm_mlp_forward(const MmMlp *net, const double *x, double *out, double *work);
/*
 * For tests: the loss of net on n rows (one batch, no dropout), mean row
 * loss + weight_decay / (2 n) sum |W|^2 as in training, and its gradient,
 * returned in grad, a network of the same shape allocated through a.
 */
MmStatus	mm_mlp_loss_grad(const MmMlp *net, int64_t n, const double *X,
							 const double *y, double weight_decay, double *loss,
							 MmMlp *grad, const MmAlloc *a, MmErr *err);

/* ---------------------------------------------------------------------
 * Models and the blob format.
 *
 * A model is a feature schema plus an algorithm's parameters.  Its blob
 * (format version 2, or 3 for algorithms 5 and up: the lowest version
 * that holds the algorithm, so older builds keep reading what they know)
 * is a 24-byte header and a payload.  All integers and doubles are little-endian, doubles IEEE-754
 * binary64; "str" is a u16 length and that many bytes, no NUL, 1..MM_MAX_NAME
 * bytes; "lstr" the same with 1..MM_MAX_LEVEL_LEN bytes.  Numbers in
 * error messages count from 1.
 *
 *	 offset size
 *	 0		4	 magic "MMDL"
 *	 4		2	 format version: 2, or 3 for kmeans and every later
 *				 algorithm (exactly that one); 1 is still read
 *	 6		2	 algorithm (MmAlgorithm)
 *	 8		4	 flags: reserved, must be zero
 *	 12		4	 payload length in bytes (header excluded)
 *	 16		4	 CRC-32C of the payload
 *	 20		4	 reserved, must be zero
 *	 24		...	 payload:
 *	   u8	task (MmTask): regression for linear_regression and ridge,
 *			classification for logistic_regression and naive_bayes,
 *			clustering for kmeans, decomposition for pca, regression or
 *			classification for mlp
 *	   str	target name; for clustering and decomposition a u16 0 (no target)
 *	   u32	number of features F (1..MM_MAX_FEATURES)
 *	   F times:
 *		 str  name
 *		 u8	  kind (MmFeatureKind)
 *		 u32  width: 1 for numeric, 1..MM_MAX_WIDTH for array,
 *			  1..MM_MAX_LEVELS for categorical
 *		 categorical only:
 *		   u32	 nlevels, equal to width
 *		   nlevels times lstr: the levels, strictly ascending by strcmp
 *		 u8	  impute (MmImpute)
 *		 impute != error only: width f64 fill values (finite)
 *	   (ncols = the sum of the widths, at most MM_MAX_COLS)
 *	   u8	scale (MmScale)
 *	   scale != none only: ncols f64 center (finite), then ncols f64
 *			scalev (finite, > 0)
 *	   u8	label_type (MmLabelType): none exactly when the task is not
 *			classification
 *	   label_type != none only:
 *		 u32  nclasses K (2..MM_MAX_CLASSES)
 *		 K times lstr: the labels, distinct and ascending as label_type
 *			  orders: text by strcmp; bool exactly "false", "true";
 *			  int each a decimal int64 as PostgreSQL prints it (optional
 *			  "-", no "+", no leading zeros, no "-0"), ascending by value
 *	   algorithm section, linear_regression and ridge:
 *		 u8	  fit_intercept (0 or 1)
 *		 f64  alpha (finite, >= 0)
 *		 f64  intercept (finite)
 *		 u32  number of coefficients, equal to ncols
 *		 ncols f64 coef (finite)
 *	   algorithm section, lasso and elastic_net (version 3): the linear
 *		 section, then f64 l1_ratio (in [0, 1]; exactly 1 for lasso)
 *	   algorithm section, logistic_regression:
 *		 u8	  fit_intercept (0 or 1)
 *		 u8	  penalty (0 none, 2 l2)
 *		 f64  C (finite, > 0)
 *		 u32  nsets, equal to mm_logistic_nsets(K)
 *		 nsets*ncols f64 coefs, row k (weight vector k) after row k-1 (finite)
 *		 nsets f64 intercepts (finite)
 *	   algorithm section, naive_bayes (p = ncols; K and p are not repeated):
 *		 f64  var_smoothing (finite, >= 0)
 *		 f64  alpha, stored in nb_alpha (finite, >= 0)
 *		 f64  epsilon (finite, >= 0)
 *		 K f64 log_prior (finite)
 *		 K*p f64 theta, [k*p + j] (finite)
 *		 K*p f64 var (finite; > 0 in numeric columns, >= 0 in group
 *			  columns, where it is unused)
 *		 K*p f64 log_prob (finite, <= 0, numeric columns included)
 *		 p i32 group: -1, or a group numbered 0, 1, 2, ... in the order of
 *			  its first column; each group one contiguous run of columns;
 *			  the columns of each categorical feature exactly one group
 *	   algorithm section, kmeans (version 3):
 *		 u32  k (1..MM_MAX_CLASSES)
 *		 f64  inertia (finite, >= 0)
 *		 k*ncols f64 centres, row c (cluster c) after row c-1 (finite)
 *	   algorithm section, pca (version 3):
 *		 u32  n_components (1..ncols)
 *		 u8	  whiten (0 or 1)
 *		 ncols f64 means (finite)
 *		 n_components*ncols f64 components, row i after row i-1 (finite)
 *		 n_components f64 explained variances (finite, >= 0; > 0 to whiten)
 *	   algorithm section, mlp (version 3):
 *		 u8	  activation (0 relu, 1 tanh, 2 sigmoid)
 *		 u32  weight layers L (1..MM_MLP_MAX_LAYERS + 1)
 *		 L+1 u32 sizes (1..MM_MAX_COLS): the first ncols, the last 1 for
 *			  regression or K for classification
 *		 L times: size[l+1]*size[l] f64 weights W[l] (row-major, finite),
 *			  then size[l+1] f64 biases (finite)
 *	   algorithm section, ensemble and stacking (version 3; task regression
 *		 or classification; scale none; features the union of the members'):
 *		 u8	  method (MmEnsembleMethod: mean for a regression ensemble, vote
 *			  or soft_vote for a classification ensemble, stack exactly for
 *			  stacking)
 *		 u32  members M (2..MM_MAX_MEMBERS)
 *		 M f64 weights (finite, >= 0, with a positive finite sum)
 *		 M times: u32 length, then that many bytes, the member's whole blob
 *			  (its own header and CRC); its algorithm, read from its header
 *			  before anything else, is not ensemble or stacking, and its
 *			  format version is the one the writer uses for it; its task
 *			  and labels are the ensemble's; each of its features is a
 *			  feature of the ensemble of the same kind and width (levels
 *			  among the ensemble's)
 *		 stacking only: u32 length and the final model's whole blob, same
 *			  task and labels, ncols the sum of mm_stack_width(member)
 *	 the payload must end exactly after the algorithm section.
 *
 * Version 1 is the same header with version 1 and a payload of: task
 * (regression only), target, F, and per feature only name, kind (numeric
 * or array) and width; then at once the linear section.  It holds only
 * linear_regression and ridge.  The reader fills in impute error (fill
 * NULL), scale none and label_type none; writing such a model gives its
 * version-2 blob, F + 2 bytes longer.
 *
 * The reader checks the header, the CRC, every length against the bytes
 * that remain, every count against its limit and every product for
 * overflow before it allocates, names, levels and labels for their length
 * and for NUL bytes, every enumeration code, and every double for
 * finiteness and its range.  It never trusts the blob.  The writer
 * demands the same of a model, so a version-2 or version-3 blob that is
 * read and written again is reproduced byte for byte.  Fields of MmModel that the
 * algorithm does not use are ignored by the writer and zero (NULL) after
 * reading.
 * --------------------------------------------------------------------- */

#define MM_BLOB_MAGIC		"MMDL"
#define MM_BLOB_VERSION		3		/* the newest version; 1 and 2 are read */
#define MM_BLOB_HEADER_SIZE 24
#define MM_MAX_FEATURES		1600	/* columns of a relation, at most */
#define MM_MAX_WIDTH		100000	/* elements of one array feature */
#define MM_MAX_NAME			63		/* bytes of a column name */
#define MM_MAX_COLS			1000000 /* encoded columns of a model */
#define MM_MAX_LEVELS		10000	/* levels of one categorical feature */
#define MM_MAX_LEVEL_LEN	1000	/* bytes of one level or label */
#define MM_MAX_CLASSES		10000	/* classes of a classifier */

typedef enum MmAlgorithm
{
	MM_ALG_LINEAR_REGRESSION = 1,
	MM_ALG_RIDGE = 2,
	MM_ALG_LOGISTIC_REGRESSION = 3,
	MM_ALG_NAIVE_BAYES = 4,
	MM_ALG_KMEANS = 5,
	MM_ALG_PCA = 6,
	MM_ALG_MLP = 7,
	MM_ALG_LASSO = 8,
	MM_ALG_ELASTIC_NET = 9,
	MM_ALG_ENSEMBLE = 10,		/* members combined by mean or vote */
	MM_ALG_STACKING = 11		/* members' outputs into a final estimator */
} MmAlgorithm;

#define MM_MAX_MEMBERS		64	/* members of an ensemble */

/* how an ensemble combines its members */
typedef enum MmEnsembleMethod
{
	MM_ENS_MEAN = 0,			/* regression: weighted mean of the values */
	MM_ENS_VOTE = 1,			/* classification: weighted majority of the labels */
	MM_ENS_SOFT_VOTE = 2,		/* classification: weighted mean of the probabilities */
	MM_ENS_STACK = 3			/* stacking: a final model on the members' outputs */
} MmEnsembleMethod;

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
	MM_FEAT_ARRAY = 2,			/* float4[]/float8[] of fixed width */
	MM_FEAT_CATEGORICAL = 3		/* text/bool/enum: one-hot over its levels */
} MmFeatureKind;

/* what replaces a NULL feature value (per feature) */
typedef enum MmImpute
{
	MM_IMPUTE_ERROR = 0,		/* a NULL is an error */
	MM_IMPUTE_MEAN = 1,
	MM_IMPUTE_MEDIAN = 2,
	MM_IMPUTE_MOST_FREQUENT = 3
} MmImpute;

/* how encoded columns are scaled before the algorithm sees them */
typedef enum MmScale
{
	MM_SCALE_NONE = 0,
	MM_SCALE_STANDARD = 1,		/* (x - mean) / population std */
	MM_SCALE_MINMAX = 2			/* (x - min) / (max - min) */
} MmScale;

/* how a classifier's labels were typed in the source */
typedef enum MmLabelType
{
	MM_LABEL_NONE = 0,			/* not a classifier */
	MM_LABEL_TEXT = 1,			/* text, varchar, char, enum: byte order */
	MM_LABEL_BOOL = 2,			/* "false" < "true" */
	MM_LABEL_INT = 3			/* integers in decimal, numeric order */
} MmLabelType;

typedef struct MmFeature
{
	char	   *name;			/* NUL-terminated */
	uint8_t		kind;			/* MmFeatureKind */
	uint32_t	width;			/* encoded values (nlevels for categorical) */
	/* categorical: the levels, distinct, ascending in byte order (strcmp) */
	uint32_t	nlevels;
	char	  **levels;
	/* NULL handling */
	uint8_t		impute;			/* MmImpute */
	double	   *fill;			/* width values for a NULL; NULL if impute is error */
} MmFeature;

typedef struct MmModel
{
	uint16_t	algorithm;		/* MmAlgorithm */
	uint8_t		task;			/* MmTask */
	char	   *target;
	uint32_t	nfeatures;
	MmFeature  *features;
	uint32_t	ncols;			/* sum of widths: the encoded row length */

	/* scaling of encoded columns, applied before the algorithm */
	uint8_t		scale;			/* MmScale */
	double	   *center;			/* ncols, when scale != none */
	double	   *scalev;			/* ncols, > 0, when scale != none */

	/* classifiers */
	uint8_t		label_type;		/* MmLabelType */
	uint32_t	nclasses;
	char	  **labels;			/* nclasses, ascending as label_type orders */

	/* linear_regression, ridge, lasso, elastic_net, logistic_regression */
	bool		fit_intercept;
	double		alpha;			/* ridge, lasso, elastic_net */
	double		l1_ratio;		/* elastic_net (lasso: 1) */
	double		intercept;		/* linear_regression, ridge */
	double	   *coef;			/* ncols: linear_regression, ridge */

	/* logistic_regression */
	uint8_t		penalty;		/* 0 none, 2 l2 */
	double		C;
	uint32_t	nsets;			/* mm_logistic_nsets(nclasses) */
	double	   *coefs;			/* nsets*ncols */
	double	   *intercepts;		/* nsets */

	/* naive_bayes (nb.K == nclasses, nb.p == ncols) */
	double		var_smoothing;
	double		nb_alpha;
	MmNaiveBayes nb;

	/* kmeans (task clustering): k centres of ncols (scaled) values */
	uint32_t	k;
	double	   *centers;		/* k*ncols */
	double		inertia;		/* on the training rows */

	/* pca (task decomposition) */
	uint32_t	n_components;
	bool		whiten;
	double	   *pca_mean;		/* ncols */
	double	   *components;		/* n_components*ncols */
	double	   *explained_variance;	/* n_components */

	/* mlp (regression or classification) */
	MmMlp		mlp;

	/*
	 * ensemble and stacking (regression or classification): whole member
	 * models, each with its own schema and scaling, whose features are
	 * among this model's; weights finite, >= 0, with a positive sum.
	 */
	uint8_t		method;			/* MmEnsembleMethod */
	uint32_t	nmembers;		/* 2..MM_MAX_MEMBERS */
	struct MmModel **members;
	double	   *weights;		/* nmembers */
	struct MmModel *final;		/* stacking: fitted on the members' outputs */
	uint32_t  **member_map;		/* derived (mm_ensemble_link): per member, the
								 * position here of each of its encoded columns */
} MmModel;

/*
 * Prediction of any supervised model on an encoded, scaled row x: out[0]
 * the value (regression) or out[0..K-1] the class probabilities.  work
 * holds mm_model_work(m) doubles.
 */
void		mm_model_predict(const MmModel *m, const double *x, double *out, double *work);
size_t		mm_model_work(const MmModel *m);
/* values a model puts into a stacking's final model: 1, or K (2 classes: 1) */
uint32_t	mm_stack_width(const MmModel *m);

/*
 * Ensembles.  mm_ensemble_schema builds m's features (the union of the
 * members', in order of first appearance; categorical levels merged; a
 * feature imputes only when every member that has it fills it alike),
 * task, target and labels from m->members; mm_ensemble_check validates
 * members, weights, method and how each member's features map onto m's;
 * mm_ensemble_link (after the check) computes member_map.
 */
MmStatus	mm_ensemble_schema(MmModel *m, const MmAlloc *a, MmErr *err);
MmStatus	mm_ensemble_check(const MmModel *m, MmErr *err);
MmStatus	mm_ensemble_link(MmModel *m, const MmAlloc *a, MmErr *err);

/* index of a level of a categorical feature (binary search), or -1 */
int			mm_feature_level(const MmFeature *f, const char *s, size_t len);

/* apply the model's scaling to an encoded row, in place */
static inline void
mm_model_scale(const MmModel *m, double *x)
{
	if (m->scale == MM_SCALE_NONE)
		return;
	for (uint32_t j = 0; j < m->ncols; j++)
		x[j] = (x[j] - m->center[j]) / m->scalev[j];
}

/* name of an algorithm ("linear_regression"), or NULL */
const char *mm_algorithm_name(int algorithm);
/* algorithm id for a name, or 0 */
int			mm_algorithm_from_name(const char *name);
const char *mm_task_name(int task);
/* the task of an algorithm's models; 0 for mlp (either) and unknown ids */
int			mm_algorithm_task(int algorithm);

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

/*
 * mm_linear_predict of the n rows at x, x + ld, ... into out[n]: each
 * row's sum in the same order (the same bits), four rows at a time, so
 * that their chains of additions overlap.
 */
void		mm_linear_predict_rows(const MmModel *m, const double *x, size_t ld,
								   int64_t n, double *out);

#endif							/* MM_CORE_H */
