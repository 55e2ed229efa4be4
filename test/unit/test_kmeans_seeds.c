/*
 * test_kmeans_seeds.c
 *	  k-means++ takes a row's D^2 from the expansion that scored the
 *	  candidates where its rounding error bound allows, instead of a second
 *	  pass of direct distances (mm_kmeans.c, mm_km_update_chosen).  This
 *	  program builds mm_kmeans.c a second time with MM_KM_ALWAYS_DIRECT,
 *	  where every D^2 is the direct sum, and checks that both builds fit the
 *	  same models on data chosen to strain the bound: clusters near and far
 *	  from the origin (1e8 away, where the expansion loses digits and the
 *	  direct sum must take over), values near the smallest and largest
 *	  doubles, rows with many exact copies, near-copies 1e-9 apart, and
 *	  k = 1200 (9 candidates per centre).
 *
 * Run with `make unit`.
 */
#include "mm_core.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_test.h"

/* the reference build: the same source, every D^2 direct, other names */
#define MM_KM_ALWAYS_DIRECT 1
#define mm_kmeans_fit mm_kmeans_fit_direct
#define mm_kmeans_fit_par mm_kmeans_fit_par_direct
#define mm_kmeans_shared_size mm_kmeans_shared_size_direct
#define mm_kmeans_shared_init mm_kmeans_shared_init_direct
#define mm_kmeans_attach mm_kmeans_attach_direct
#define mm_kmeans_nparts mm_kmeans_nparts_direct
#define mm_kmeans_part mm_kmeans_part_direct
#define mm_kmeans_parts_of mm_kmeans_parts_of_direct
#define mm_kmeans_avx2 mm_kmeans_avx2_direct
#define mm_kmeans_predict mm_kmeans_predict_direct
#define mm_silhouette mm_silhouette_direct
#include "../../src/core/mm_kmeans.c"
#undef mm_kmeans_fit
#undef mm_kmeans_fit_par
#undef mm_kmeans_shared_size
#undef mm_kmeans_shared_init
#undef mm_kmeans_attach
#undef mm_kmeans_nparts
#undef mm_kmeans_part
#undef mm_kmeans_parts_of
#undef mm_kmeans_avx2
#undef mm_kmeans_predict
#undef mm_silhouette

static uint64_t rng_state = 88172645463325252ULL;

/* xorshift64: uniform in [0, 1) */
static double
uniform(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double) (rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/*
 * n rows of p values around 6 cluster centres (row i in cluster i % 6):
 * kind 0 near the origin, 1 shifted by 1e8, 2 scaled by 1e-150, 3 scaled
 * by 1e150, 4 rounded to integers (many exact copies), 5 four points with
 * near-copies 1e-9 apart.
 */
static void
make_data(int kind, int64_t n, int p, double *X)
{
	for (int64_t i = 0; i < n; i++)
		for (int j = 0; j < p; j++)
		{
			double		v = (double) ((i % 6) * 3 + j % 2) + uniform();

			switch (kind)
			{
				case 1:
					v += 1e8;
					break;
				case 2:
					v *= 1e-150;
					break;
				case 3:
					v *= 1e150;
					break;
				case 4:
					v = floor(v);
					break;
				case 5:
					v = (double) (i % 4) + (j == 0 ? 1e-9 * (double) (i % 3) : 0.0);
					break;
			}
			X[i * p + j] = v;
		}
}

static void
test_same_fits(void)
{
	static const char *const kinds[] = {
		"near the origin", "1e8 from the origin", "scaled by 1e-150",
		"scaled by 1e150", "integers (exact copies)", "near-copies 1e-9 apart"
	};
	static const int ks[] = {6, 17, 1200};
	int64_t		n = 6000;
	int			p = 5;
	double	   *X = malloc(sizeof(double) * (size_t) n * p);

	for (int kind = 0; kind < 6; kind++)
	{
		make_data(kind, n, p, X);
		for (int ki = 0; ki < 3; ki++)
		{
			int			k = ks[ki];
			int64_t		rows = k > 100 ? 2000 : n;
			MmKMeansParams kp = {k, 0, k > 100 ? 1 : 2, 300, 1e-4, 1000 + (uint64_t) k};
			double	   *C1 = malloc(sizeof(double) * (size_t) k * p);
			double	   *C2 = malloc(sizeof(double) * (size_t) k * p);
			MmKMeansInfo i1,
						i2;
			MmErr		err;
			MmStatus	s1 = mm_kmeans_fit(rows, p, X, &kp, C1, &i1, NULL, &talloc, &err);
			MmStatus	s2 = mm_kmeans_fit_direct(rows, p, X, &kp, C2, &i2, NULL, &talloc, &err);
			double		rel = fabs(i1.inertia - i2.inertia) / fmax(fabs(i2.inertia), DBL_MIN);
			bool		same_centres = memcmp(C1, C2, sizeof(double) * (size_t) k * p) == 0;
			char		name[160];

			/*
			 * The D^2 differ in their last bits where the expansion was
			 * taken, so a draw can fall on the next row: on copies and
			 * near-copies of a point (kinds 4 and 5) the centres may then
			 * be other copies, at the same inertia.
			 */
			snprintf(name, sizeof(name),
					 "kmeans++ seeds from the expansion fit as the direct ones: %s, k = %d",
					 kinds[kind], k);
			check(s1 == MM_OK && s2 == MM_OK && rel <= 1e-12 &&
				  (same_centres || kind >= 4) && i1.iterations == i2.iterations,
				  name, "status %d %d, inertia %.17g and %.17g, iterations %d and %d, centres %s",
				  (int) s1, (int) s2, i1.inertia, i2.inertia, i1.iterations, i2.iterations,
				  same_centres ? "equal" : "differ");
			free(C1);
			free(C2);
			track_reset(&tracker);
		}
	}
	free(X);
}

int
main(void)
{
	test_same_fits();
	track_destroy(&tracker);
	printf("%d passed, %d failed\n", n_passed, n_failed);
	return n_failed > 0;
}
