/*
 * core_bench.c
 *	  The massmodel side of the core benchmark (bench/core.sh): the C core
 *	  (src/core) timed on its own, without the server, against the
 *	  machine's dgemm rate measured in the same run, and against
 *	  scikit-learn on the same data (bench/core_bench.py).
 *
 *	  core_bench gen DIR              write DIR/mlp.bin and DIR/kmeans.bin
 *	  core_bench dgemm THREADS        2048^3 cblas_dgemm, best of 3
 *	  core_bench mlp DIR THREADS      mm_mlp_fit, 1 epoch, on DIR/mlp.bin
 *	  core_bench kmeans DIR THREADS [MAX_ITER]
 *	                                  mm_kmeans_fit on DIR/kmeans.bin
 *	                                  (max_iter 300 unless given)
 *
 * THREADS is passed to openblas_set_num_threads() before anything is
 * timed (the core itself runs in one thread; only its BLAS calls are
 * threaded).  Results are printed one per line as key=value pairs.
 *
 * The data files (generated here from a fixed seed with the core's own
 * generator, so every run writes the same bytes; read by core_bench.py
 * with numpy.fromfile):
 *	 char[8]  magic "MMBENCH1"
 *	 int64    n (rows), p (columns), q (classes, or the number of blobs)
 *	 double   X[n*p], row-major
 *	 double   y[n], the class (blob) of each row, 0..q-1
 * all in the machine's byte order.
 *
 * mlp.bin: 100000 rows x 256 columns, 10 classes; class centres drawn
 * N(0, 0.25^2) per column, rows = centre of their class + N(0, 1) noise,
 * classes uniform.  kmeans.bin: 1000000 rows x 20 columns from 8
 * Gaussian blobs, centres N(0, 0.5^2) per column, noise N(0, 1), blobs
 * uniform (the blobs overlap, so Lloyd needs 10 to 50 passes).
 */
#include "mm_core.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

/* OpenBLAS's own, declared in its cblas.h; repeated for other headers */
extern void openblas_set_num_threads(int num_threads);
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);

#define MLP_N		100000
#define MLP_P		256
#define MLP_Q		10
#define MLP_H1		512
#define MLP_H2		512
#define MLP_BATCH	256
#define MLP_LR		0.001
#define MLP_ALPHA	0.0001
#define MLP_EPOCHS	1

#define KM_N		1000000
#define KM_P		20
#define KM_K		8
#define KM_MAX_ITER 300
#define KM_TOL		1e-4

#define DGEMM_N		2048

static const char magic[8] = {'M', 'M', 'B', 'E', 'N', 'C', 'H', '1'};

/* ---- a malloc allocator whose blocks are freed together ---------------- */
typedef struct Pool
{
	void	  **ptrs;
	size_t		n;
	size_t		cap;
} Pool;

static void *
pool_alloc(void *ctx, size_t size)
{
	Pool	   *pool = ctx;
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
	{
		fprintf(stderr, "core_bench: out of memory (%zu bytes)\n", size);
		exit(1);
	}
	if (pool->n == pool->cap)
	{
		pool->cap = pool->cap ? 2 * pool->cap : 64;
		pool->ptrs = realloc(pool->ptrs, pool->cap * sizeof(void *));
		if (pool->ptrs == NULL)
			exit(1);
	}
	pool->ptrs[pool->n++] = p;
	return p;
}

static void
pool_free(Pool *pool)
{
	size_t		i;

	for (i = 0; i < pool->n; i++)
		free(pool->ptrs[i]);
	free(pool->ptrs);
	memset(pool, 0, sizeof(*pool));
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *
xmalloc(size_t size)
{
	void	   *p = malloc(size);

	if (p == NULL)
	{
		fprintf(stderr, "core_bench: out of memory (%zu bytes)\n", size);
		exit(1);
	}
	return p;
}

/* ---- data files --------------------------------------------------------- */

/* rows from q Gaussian blobs: centre sd csd, noise sd 1, blobs uniform */
static void
write_blobs(const char *path, int64_t n, int64_t p, int64_t q, double csd,
			uint64_t seed)
{
	MmRng		rng;
	double	   *centre = xmalloc(sizeof(double) * q * p);
	double	   *row = xmalloc(sizeof(double) * p);
	double	   *y = xmalloc(sizeof(double) * n);
	int64_t		hdr[3] = {n, p, q};
	int64_t		i,
				j;
	FILE	   *f;
	char		tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (f == NULL)
	{
		fprintf(stderr, "core_bench: cannot write %s: %s\n", tmp, strerror(errno));
		exit(1);
	}
	mm_rng_seed(&rng, seed);
	for (i = 0; i < q * p; i++)
		centre[i] = csd * mm_rng_normal(&rng);
	fwrite(magic, 1, 8, f);
	fwrite(hdr, sizeof(int64_t), 3, f);
	for (i = 0; i < n; i++)
	{
		int64_t		c = (int64_t) mm_rng_below(&rng, (uint64_t) q);

		y[i] = (double) c;
		for (j = 0; j < p; j++)
			row[j] = centre[c * p + j] + mm_rng_normal(&rng);
		fwrite(row, sizeof(double), p, f);
	}
	fwrite(y, sizeof(double), n, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
	{
		fprintf(stderr, "core_bench: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	free(centre);
	free(row);
	free(y);
}

/* read a data file; X and y are malloc'd */
static void
read_data(const char *path, int64_t *n, int64_t *p, int64_t *q, double **X,
		  double **y)
{
	FILE	   *f = fopen(path, "rb");
	char		m[8];
	int64_t		hdr[3];
	size_t		nx;

	if (f == NULL)
	{
		fprintf(stderr, "core_bench: cannot read %s: %s (run `core_bench gen` first)\n",
				path, strerror(errno));
		exit(1);
	}
	if (fread(m, 1, 8, f) != 8 || memcmp(m, magic, 8) != 0 ||
		fread(hdr, sizeof(int64_t), 3, f) != 3)
	{
		fprintf(stderr, "core_bench: %s is not a data file\n", path);
		exit(1);
	}
	*n = hdr[0];
	*p = hdr[1];
	*q = hdr[2];
	nx = (size_t) (*n) * (size_t) (*p);
	*X = xmalloc(sizeof(double) * nx);
	*y = xmalloc(sizeof(double) * (size_t) (*n));
	if (fread(*X, sizeof(double), nx, f) != nx ||
		fread(*y, sizeof(double), (size_t) (*n), f) != (size_t) (*n))
	{
		fprintf(stderr, "core_bench: %s is truncated\n", path);
		exit(1);
	}
	fclose(f);
}

/* ---- the benchmarks ----------------------------------------------------- */

static void
bench_dgemm(void)
{
	size_t		nn = (size_t) DGEMM_N * DGEMM_N;
	double	   *A = xmalloc(sizeof(double) * nn);
	double	   *B = xmalloc(sizeof(double) * nn);
	double	   *C = xmalloc(sizeof(double) * nn);
	double		flops = 2.0 * DGEMM_N * (double) DGEMM_N * DGEMM_N;
	double		best = INFINITY;
	MmRng		rng;
	size_t		i;
	int			r;

	mm_rng_seed(&rng, 7);
	for (i = 0; i < nn; i++)
	{
		A[i] = mm_rng_uniform(&rng) - 0.5;
		B[i] = mm_rng_uniform(&rng) - 0.5;
		C[i] = 0.0;
	}
	for (r = 0; r < 3; r++)
	{
		double		t0 = now();
		double		t;

		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, DGEMM_N, DGEMM_N,
					DGEMM_N, 1.0, A, DGEMM_N, B, DGEMM_N, 0.0, C, DGEMM_N);
		t = now() - t0;
		printf("dgemm_s=%.4f\n", t);
		if (t < best)
			best = t;
	}
	printf("dgemm_n=%d\n", DGEMM_N);
	printf("dgemm_best_s=%.4f\n", best);
	printf("dgemm_gflops=%.2f\n", flops / best * 1e-9);
	free(A);
	free(B);
	free(C);
}

static void
bench_mlp(const char *dir)
{
	char		path[4096];
	int64_t		n,
				p,
				q;
	double	   *X,
			   *y;
	MmMlpParams params;
	MmMlp		net;
	MmMlpInfo	info;
	MmErr		err;
	Pool		pool = {0};
	MmAlloc		a = {pool_alloc, &pool};
	MmStatus	st;
	double		t0,
				t,
				flops_row;
	int			size[4];
	int			l;

	snprintf(path, sizeof(path), "%s/mlp.bin", dir);
	read_data(path, &n, &p, &q, &X, &y);

	memset(&params, 0, sizeof(params));
	params.nhidden = 2;
	params.hidden[0] = MLP_H1;
	params.hidden[1] = MLP_H2;
	params.activation = 0;		/* relu */
	params.optimizer = 1;		/* adam */
	params.learning_rate = MLP_LR;
	params.momentum = 0.9;
	params.epochs = MLP_EPOCHS;
	params.batch_size = MLP_BATCH;
	params.dropout = 0.0;
	params.weight_decay = MLP_ALPHA;
	params.early_stopping = false;
	params.validation_fraction = 0.1;
	params.patience = 10;
	params.seed = 42;

	/*
	 * GEMM flops of one row (one sample) through forward and backward:
	 * forward 2 in out per layer; backward 2 in out for dW per layer and
	 * 2 in out for the input gradient of every layer but the first.
	 */
	size[0] = (int) p;
	size[1] = MLP_H1;
	size[2] = MLP_H2;
	size[3] = (int) q;
	flops_row = 0.0;
	for (l = 0; l < 3; l++)
	{
		double		io = (double) size[l] * size[l + 1];

		flops_row += 2.0 * io + 2.0 * io + (l > 0 ? 2.0 * io : 0.0);
	}

	t0 = now();
	st = mm_mlp_fit(n, (int) p, X, y, (int) q, true, &params, NULL, &net, &info,
					NULL, &a, &err);
	t = now() - t0;
	if (st != MM_OK)
	{
		fprintf(stderr, "core_bench: mm_mlp_fit: %s\n", err.msg);
		exit(1);
	}
	printf("mlp_rows=%lld\nmlp_cols=%lld\nmlp_classes=%lld\n",
		   (long long) n, (long long) p, (long long) q);
	printf("mlp_layers=%d-%d-%d-%d\n", size[0], size[1], size[2], size[3]);
	printf("mlp_batch=%d\nmlp_epochs=%d\n", MLP_BATCH, info.epochs_run);
	printf("mlp_flops_per_row=%.0f\n", flops_row);
	printf("mlp_s=%.4f\n", t);
	printf("mlp_rows_per_s=%.1f\n", (double) n * info.epochs_run / t);
	printf("mlp_gflops=%.2f\n", flops_row * n * info.epochs_run / t * 1e-9);
	printf("mlp_train_loss=%.6f\n", info.train_loss);
	pool_free(&pool);
	free(X);
	free(y);
}

static void
bench_kmeans(const char *dir, int max_iter)
{
	char		path[4096];
	int64_t		n,
				p,
				q;
	double	   *X,
			   *y;
	double	   *centers;
	MmKMeansParams params;
	MmKMeansInfo info;
	MmErr		err;
	Pool		pool = {0};
	MmAlloc		a = {pool_alloc, &pool};
	MmStatus	st;
	double		t0,
				t;

	snprintf(path, sizeof(path), "%s/kmeans.bin", dir);
	read_data(path, &n, &p, &q, &X, &y);
	centers = xmalloc(sizeof(double) * KM_K * p);

	memset(&params, 0, sizeof(params));
	params.k = KM_K;
	params.init = 0;			/* k-means++ */
	params.n_init = 1;
	params.max_iter = max_iter;
	params.tol = KM_TOL;
	params.seed = 42;

	t0 = now();
	st = mm_kmeans_fit(n, (int) p, X, &params, centers, &info, NULL, &a, &err);
	t = now() - t0;
	if (st != MM_OK)
	{
		fprintf(stderr, "core_bench: mm_kmeans_fit: %s\n", err.msg);
		exit(1);
	}
	printf("kmeans_rows=%lld\nkmeans_cols=%lld\nkmeans_k=%d\n",
		   (long long) n, (long long) p, KM_K);
	printf("kmeans_max_iter=%d\n", max_iter);
	printf("kmeans_s=%.4f\n", t);
	printf("kmeans_iter=%d\n", info.iterations);
	printf("kmeans_s_per_iter=%.5f\n", t / (info.iterations > 0 ? info.iterations : 1));
	printf("kmeans_inertia=%.6e\n", info.inertia);
	pool_free(&pool);
	free(centers);
	free(X);
	free(y);
}

static void
usage(void)
{
	fprintf(stderr,
			"usage: core_bench gen DIR | dgemm THREADS | mlp DIR THREADS |"
			" kmeans DIR THREADS [MAX_ITER]\n");
	exit(2);
}

static void
set_threads(const char *arg)
{
	int			t = atoi(arg);

	if (t < 1)
		usage();
	openblas_set_num_threads(t);
	printf("threads=%d\n", t);
	printf("openblas=%s\n", openblas_get_config());
}

int
main(int argc, char **argv)
{
	char		path[4096];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "gen") == 0)
	{
		snprintf(path, sizeof(path), "%s/mlp.bin", argv[2]);
		write_blobs(path, MLP_N, MLP_P, MLP_Q, 0.25, 20261122);
		snprintf(path, sizeof(path), "%s/kmeans.bin", argv[2]);
		write_blobs(path, KM_N, KM_P, KM_K, 0.5, 20261123);
	}
	else if (argc == 3 && strcmp(argv[1], "dgemm") == 0)
	{
		set_threads(argv[2]);
		bench_dgemm();
	}
	else if (argc == 4 && strcmp(argv[1], "mlp") == 0)
	{
		set_threads(argv[3]);
		bench_mlp(argv[2]);
	}
	else if ((argc == 4 || argc == 5) && strcmp(argv[1], "kmeans") == 0)
	{
		int			max_iter = argc == 5 ? atoi(argv[4]) : KM_MAX_ITER;

		if (max_iter < 1)
			usage();
		set_threads(argv[3]);
		bench_kmeans(argv[2], max_iter);
	}
	else
		usage();
	return 0;
}
