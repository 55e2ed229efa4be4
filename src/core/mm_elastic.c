/*
 * mm_elastic.c
 *	  Lasso and elastic net by cyclic coordinate descent, as scikit-learn's
 *	  Lasso / ElasticNet (1.2, enet_coordinate_descent in _cd_fast.pyx).
 *
 * Objective (scikit-learn's):
 *
 *	 1/(2n) |y - b0 - X w|^2 + alpha (l1_ratio |w|_1 + (1 - l1_ratio)/2 |w|^2)
 *
 * With fit_intercept the columns of X and y are centred on their means
 * (X_c, y_c) and b0 = mean_y - mean_x' w; otherwise X_c = X, y_c = y and
 * b0 = 0.  Multiplied by n the objective becomes scikit-learn's solver
 * form
 *
 *	 1/2 |y_c - X_c w|^2 + l1 |w|_1 + l2/2 |w|^2,
 *	 l1 = alpha l1_ratio n,  l2 = alpha (1 - l1_ratio) n.
 *
 * Solver.  X_c is copied column-major and the squared column norms
 * nrm_j = |X_c[:, j]|^2 precomputed; the residual R = y_c - X_c w starts
 * at y_c (w = 0).  One pass visits j = 0..p-1 in order, skipping columns
 * with nrm_j == 0 (their coefficient stays 0):
 *
 *	 R += w_j X_j					(if w_j != 0)
 *	 t = X_j' R
 *	 w_j = sign(t) max(|t| - l1, 0) / (nrm_j + l2)
 *	 R -= w_j X_j					(if w_j != 0)
 *
 * (BLAS ddot and daxpy), so the soft threshold leaves exact zeros.  After
 * a pass in which all w are 0, or the largest change max|dw| is below
 * tol * max|w|, or on the last allowed pass, the duality gap is computed
 * exactly as scikit-learn does, with A = X_c' R - l2 w:
 *
 *	 c = min(1, l1 / max|A|)
 *	 gap = 1/2 |R|^2 (1 + c^2) + l1 |w|_1 - c R' y_c + l2/2 (1 + c^2) |w|^2
 *
 * (gap = |R|^2 + ... when max|A| <= l1, i.e. c = 1), and the iteration
 * stops, converged, when gap <= tol |y_c|^2.  (scikit-learn tests
 * gap < tol |y_c|^2; the two differ only when both sides are equal, e.g.
 * a constant target, where scikit-learn runs all max_iter passes.)  The
 * reported gap is divided by n, like scikit-learn's dual_gap_, so that it
 * is on the scale of the objective above.
 *
 * Without an l1 term (l1_ratio == 0 or alpha == 0) c is 0 and the formula
 * above is the primal objective itself, not a gap: scikit-learn then never
 * converges and runs all max_iter passes (with a ConvergenceWarning).
 * Here, for ridge (l1 == 0 < l2), the gap to the dual point theta = R of
 * the ridge dual 1/2|y_c|^2 - 1/2|y_c - theta|^2 - |X_c' theta|^2 / (2 l2)
 * is used instead:
 *
 *	 gap = |R|^2 - R' y_c + l2/2 |w|^2 + |X_c' R|^2 / (2 l2),
 *
 * which is 0 at the optimum (X_c' R = l2 w), so ridge converges; the
 * answer is the same as scikit-learn's after enough passes.  With
 * alpha == 0 (least squares) there is no such bound and scikit-learn's
 * formula is kept: the coefficients approach the least-squares solution
 * but converged stays false unless the fit is exact, as in scikit-learn.
 *
 * The same sequence of operations as scikit-learn's means the same
 * iterates up to the rounding of the dot products, and the same number
 * of passes in practice.  alpha == 0 is allowed (least squares by
 * coordinate descent, slow on correlated columns, as in scikit-learn).
 *
 * The progress callback is called after every pass with the pass number
 * and the objective, and within a pass whenever about MM_PROGRESS_WORK
 * multiply-adds have been done since the last call.  Scratch memory
 * (n*p + 2n + 3p doubles) comes from the caller's MmAlloc.  Deterministic
 * for a given BLAS and thread count.
 */
#include "mm_core.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

/* longest vector handed to one BLAS call (its lengths are int) */
#define MM_BLAS_CHUNK	(1 << 30)
/* multiply-adds between progress calls within a pass */
#define MM_PROGRESS_WORK (INT64_C(1) << 26)

/* x' y over n values, in chunks that fit BLAS's int length. */
static double
mm_dot(int64_t n, const double *x, const double *y)
{
	double		s = 0.0;

	while (n > 0)
	{
		int			m = n > MM_BLAS_CHUNK ? MM_BLAS_CHUNK : (int) n;

		s += cblas_ddot(m, x, 1, y, 1);
		x += m;
		y += m;
		n -= m;
	}
	return s;
}

/* y += a x over n values. */
static void
mm_axpy(int64_t n, double a, const double *x, double *y)
{
	while (n > 0)
	{
		int			m = n > MM_BLAS_CHUNK ? MM_BLAS_CHUNK : (int) n;

		cblas_daxpy(m, a, x, 1, y, 1);
		x += m;
		y += m;
		n -= m;
	}
}

/* Mean of n values with stride, corrected by a second pass. */
static double
mm_mean_strided(int64_t n, const double *x, size_t stride)
{
	double		s = 0.0;
	double		m;
	double		c = 0.0;
	int64_t		i;

	for (i = 0; i < n; i++)
		s += x[(size_t) i * stride];
	m = s / (double) n;
	for (i = 0; i < n; i++)
		c += x[(size_t) i * stride] - m;
	return m + c / (double) n;
}

/* Check the params and outputs of a fit; MM_OK or an error in err. */
static MmStatus
mm_elastic_check_params(const MmElasticParams *params, double *coef,
						double *intercept, MmErr *err)
{
	if (params == NULL || coef == NULL || intercept == NULL)
	{
		mm_err_set(err, "elastic net: missing parameters or output");
		return MM_EINVAL;
	}
	if (!(params->alpha >= 0.0) || !isfinite(params->alpha))
	{
		mm_err_set(err, "elastic net alpha must be non-negative and finite");
		return MM_EINVAL;
	}
	if (!(params->l1_ratio >= 0.0 && params->l1_ratio <= 1.0))
	{
		mm_err_set(err, "elastic net l1_ratio must be between 0 and 1");
		return MM_EINVAL;
	}
	if (params->max_iter < 1)
	{
		mm_err_set(err, "elastic net max_iter must be at least 1");
		return MM_EINVAL;
	}
	if (!(params->tol > 0.0) || !isfinite(params->tol))
	{
		mm_err_set(err, "elastic net tol must be positive and finite");
		return MM_EINVAL;
	}
	return MM_OK;
}

/* Check the arguments of mm_elastic_fit; MM_OK or an error in err. */
static MmStatus
mm_elastic_check(int64_t n, int p, const double *X, const double *y,
				 const MmElasticParams *params, double *coef,
				 double *intercept, MmErr *err)
{
	MmStatus	st;
	size_t		i;

	if (n < 1)
	{
		mm_err_set(err, "elastic net needs at least one row");
		return MM_EINVAL;
	}
	if (p < 1)
	{
		mm_err_set(err, "elastic net needs at least one feature");
		return MM_EINVAL;
	}
	if (X == NULL || y == NULL)
	{
		mm_err_set(err, "elastic net: missing data");
		return MM_EINVAL;
	}
	if ((st = mm_elastic_check_params(params, coef, intercept, err)) != MM_OK)
		return st;
	if ((st = mm_check_matrix("elastic net", n, p, X, err)) != MM_OK)
		return st;
	for (i = 0; i < (size_t) n; i++)
	{
		if (!isfinite(y[i]))
		{
			mm_err_set(err, "elastic net: non-finite value in y, row %lld",
					   (long long) i);
			return MM_EINVAL;
		}
	}
	return MM_OK;
}

/* Report progress, if there is a callback. */
static inline void
mm_elastic_progress(const MmProgress *progress, int iteration, double loss)
{
	if (progress != NULL && progress->fn != NULL)
		progress->fn(progress->arg, iteration, loss);
}

/*
 * The objective of the file header (the 1/(2n) form) from |R|^2 and w.
 */
static double
mm_elastic_objective_n(double n, int p, double R_norm2, const double *w,
					   double alpha, double l1_ratio)
{
	double		l1 = 0.0;
	double		l2 = 0.0;
	int			j;

	for (j = 0; j < p; j++)
	{
		l1 += fabs(w[j]);
		l2 += w[j] * w[j];
	}
	return R_norm2 / (2.0 * n) +
		alpha * (l1_ratio * l1 + 0.5 * (1.0 - l1_ratio) * l2);
}

/*
 * The duality gap of the file header at w, from X_c' R (p values), |R|^2
 * and R' y_c.
 */
static double
mm_elastic_gap(int p, const double *XtR, const double *w, double R_norm2,
			   double Rty, double l1reg, double l2reg)
{
	double		dual_norm = 0.0;
	double		XtR_norm2 = 0.0;
	double		w_norm2 = 0.0;
	double		l1_norm = 0.0;
	double		c;
	double		gap;
	int			j;

	/* A = X_c' R - l2 w; its max-norm */
	for (j = 0; j < p; j++)
	{
		double		Aj = XtR[j] - l2reg * w[j];

		if (fabs(Aj) > dual_norm)
			dual_norm = fabs(Aj);
		XtR_norm2 += XtR[j] * XtR[j];
		w_norm2 += w[j] * w[j];
		l1_norm += fabs(w[j]);
	}
	if (l1reg == 0.0 && l2reg > 0.0)
	{
		/* ridge: the gap to the dual at theta = R (see header) */
		return R_norm2 - Rty + 0.5 * l2reg * w_norm2 + 0.5 * XtR_norm2 / l2reg;
	}
	if (dual_norm > l1reg)
	{
		c = l1reg / dual_norm;
		gap = 0.5 * (R_norm2 + R_norm2 * c * c);
	}
	else
	{
		c = 1.0;
		gap = R_norm2;
	}
	return gap + l1reg * l1_norm - c * Rty + 0.5 * l2reg * (1.0 + c * c) * w_norm2;
}

/*
 * Hand out a finished fit: the coefficients w, the intercept from the
 * means (the mean of y less the means of X times w; 0 without one), and
 * the passes, gap (on the 1/(2n) scale) and convergence.
 */
static void
mm_elastic_finish(int p, const double *w, const MmElasticParams *params,
				  const double *xmean, double ymean, double n, int iter,
				  bool converged, double gap, double *coef, double *intercept,
				  MmElasticInfo *info)
{
	int			j;

	for (j = 0; j < p; j++)
		coef[j] = w[j];
	*intercept = 0.0;
	if (params->fit_intercept)
	{
		double		s = 0.0;

		for (j = 0; j < p; j++)
			s += xmean[j] * w[j];
		*intercept = ymean - s;
	}
	if (info != NULL)
	{
		info->iterations = converged ? iter : params->max_iter;
		info->gap = gap / n;
		info->converged = converged;
	}
}

/* Fit a lasso / elastic net by coordinate descent; see the file header. */
MmStatus
mm_elastic_fit(int64_t n, int p, const double *X, const double *y,
			   const MmElasticParams *params, double *coef,
			   double *intercept, MmElasticInfo *info,
			   const MmProgress *progress, const MmAlloc *a, MmErr *err)
{
	MmStatus	st;
	double	   *Xc;				/* n x p, column-major, centred */
	double	   *yc;				/* n */
	double	   *R;				/* n: residual y_c - X_c w */
	double	   *nrm;			/* p: squared column norms */
	double	   *xmean;			/* p */
	double	   *w;				/* p */
	double	   *XtR;			/* p: X_c' R, for the gap */
	double		ymean = 0.0;
	double		l1reg;
	double		l2reg;
	double		d_w_tol;
	double		gap_tol;
	double		gap = 0.0;
	double		R_norm2;
	double		last_obj;
	int64_t		work = 0;
	int			iter = 0;
	bool		converged = false;
	int64_t		i;
	int			j;

	if (info != NULL)
	{
		info->iterations = 0;
		info->gap = 0.0;
		info->converged = false;
	}
	st = mm_elastic_check(n, p, X, y, params, coef, intercept, err);
	if (st != MM_OK)
		return st;

	Xc = mm_alloc0(a, sizeof(double) * (size_t) n * (size_t) p);
	yc = mm_alloc0(a, sizeof(double) * (size_t) n);
	R = mm_alloc0(a, sizeof(double) * (size_t) n);
	nrm = mm_alloc0(a, sizeof(double) * (size_t) p);
	xmean = mm_alloc0(a, sizeof(double) * (size_t) p);
	w = mm_alloc0(a, sizeof(double) * (size_t) p);
	XtR = mm_alloc0(a, sizeof(double) * (size_t) p);

	/* centre (or copy) the data, column-major */
	if (params->fit_intercept)
		ymean = mm_mean_strided(n, y, 1);
	for (i = 0; i < n; i++)
		yc[i] = y[i] - ymean;
	for (j = 0; j < p; j++)
	{
		double	   *col = Xc + (size_t) j * (size_t) n;
		const double *src = X + j;

		if (params->fit_intercept)
			xmean[j] = mm_mean_strided(n, src, (size_t) p);
		for (i = 0; i < n; i++)
			col[i] = src[(size_t) i * (size_t) p] - xmean[j];
		nrm[j] = mm_dot(n, col, col);
		if (!isfinite(nrm[j]))
		{
			mm_err_set(err, "elastic net: column %d is too large (its sum of squares overflows)", j);
			return MM_ENUMERIC;
		}
	}

	l1reg = params->alpha * params->l1_ratio * (double) n;
	l2reg = params->alpha * (1.0 - params->l1_ratio) * (double) n;
	d_w_tol = params->tol;
	memcpy(R, yc, sizeof(double) * (size_t) n);
	gap_tol = mm_dot(n, yc, yc);
	if (!isfinite(gap_tol))
	{
		mm_err_set(err, "elastic net: the target is too large (its sum of squares overflows)");
		return MM_ENUMERIC;
	}
	last_obj = gap_tol / (2.0 * (double) n);
	gap_tol *= params->tol;

	for (iter = 0; iter < params->max_iter; iter++)
	{
		double		w_max = 0.0;
		double		d_w_max = 0.0;

		for (j = 0; j < p; j++)
		{
			const double *col = Xc + (size_t) j * (size_t) n;
			double		w_j = w[j];
			double		t;
			double		wn;

			if (nrm[j] == 0.0)
				continue;
			if (w_j != 0.0)
				mm_axpy(n, w_j, col, R);
			t = mm_dot(n, col, R);
			wn = fmax(fabs(t) - l1reg, 0.0) / (nrm[j] + l2reg);
			w[j] = t > 0.0 ? wn : (t < 0.0 ? -wn : 0.0);
			if (w[j] != 0.0)
				mm_axpy(n, -w[j], col, R);
			d_w_max = fmax(d_w_max, fabs(w[j] - w_j));
			w_max = fmax(w_max, fabs(w[j]));

			work += 3 * n;
			if (work >= MM_PROGRESS_WORK)
			{
				work = 0;
				mm_elastic_progress(progress, iter + 1, last_obj);
			}
		}

		R_norm2 = mm_dot(n, R, R);
		if (!isfinite(R_norm2))
		{
			mm_err_set(err, "elastic net: coordinate descent diverged (the residuals are not finite)");
			return MM_ENUMERIC;
		}

		if (w_max == 0.0 || d_w_max / w_max < d_w_tol ||
			iter == params->max_iter - 1)
		{
			for (j = 0; j < p; j++)
				XtR[j] = mm_dot(n, Xc + (size_t) j * (size_t) n, R);
			gap = mm_elastic_gap(p, XtR, w, R_norm2, mm_dot(n, R, yc), l1reg, l2reg);
			if (gap <= gap_tol)
				converged = true;
		}

		last_obj = mm_elastic_objective_n((double) n, p, R_norm2, w, params->alpha,
										  params->l1_ratio);
		mm_elastic_progress(progress, iter + 1, last_obj);
		if (converged)
		{
			iter++;
			break;
		}
	}

	mm_elastic_finish(p, w, params, xmean, ymean, (double) n, iter, converged, gap,
					  coef, intercept, info);
	return MM_OK;
}

/*
 * The fit from co-moments (see mm_core.h): the pass of the file header with
 * G = X_c'X_c, q = X_c'y_c and H = G w in place of the residual R:
 *
 *	 t = q_j - H_j + w_j G_jj	(= X_j' R with w_j's share added back)
 *	 w_j = sign(t) max(|t| - l1, 0) / (G_jj + l2)
 *	 H += G[:, j] (w_j - old w_j)
 *
 * and |R|^2 = |y_c|^2 - 2 w'q + w'H, X_c'R = q - H, R'y_c = |y_c|^2 - w'q for
 * the gap.  Without an intercept the moments are uncentred:
 * X'X = C + n m m'.
 */
MmStatus
mm_elastic_fit_gram(double n, int p, const double *mean, const double *C,
					const MmElasticParams *params, double *coef,
					double *intercept, MmElasticInfo *info,
					const MmProgress *progress, const MmAlloc *a, MmErr *err)
{
	int			d = p + 1;
	bool		fi;
	double	   *G;				/* p x p, column-major, full */
	double	   *q;				/* p */
	double	   *H;				/* p: G w */
	double	   *w;				/* p */
	double	   *XtR;			/* p */
	double		yy;
	double		l1reg;
	double		l2reg;
	double		gap_tol;
	double		gap = 0.0;
	double		R_norm2 = 0.0;
	double		last_obj;
	int			iter;
	bool		converged = false;
	MmStatus	st;
	int			i,
				j;

	if (info != NULL)
	{
		info->iterations = 0;
		info->gap = 0.0;
		info->converged = false;
	}
	if (!(n >= 1.0) || p < 1 || mean == NULL || C == NULL)
	{
		mm_err_set(err, p < 1 ? "elastic net needs at least one feature" :
				   "elastic net needs at least one row");
		return MM_EINVAL;
	}
	if ((st = mm_elastic_check_params(params, coef, intercept, err)) != MM_OK)
		return st;
	fi = params->fit_intercept;

	G = mm_alloc0(a, sizeof(double) * (size_t) p * (size_t) p);
	q = mm_alloc0(a, sizeof(double) * (size_t) p);
	H = mm_alloc0(a, sizeof(double) * (size_t) p);
	w = mm_alloc0(a, sizeof(double) * (size_t) p);
	XtR = mm_alloc0(a, sizeof(double) * (size_t) p);
	for (j = 0; j < p; j++)
	{
		for (i = 0; i <= j; i++)
		{
			double		g = C[(size_t) (i + 1) + (size_t) (j + 1) * d];

			if (!fi)
				g += n * mean[i + 1] * mean[j + 1];
			G[i + (size_t) j * p] = G[j + (size_t) i * p] = g;
		}
		q[j] = C[(size_t) (j + 1) * d] + (fi ? 0.0 : n * mean[0] * mean[j + 1]);
		if (!isfinite(G[j + (size_t) j * p]) || !isfinite(q[j]))
		{
			mm_err_set(err, "elastic net: column %d is too large (its sum of squares overflows)", j);
			return MM_ENUMERIC;
		}
	}
	yy = C[0] + (fi ? 0.0 : n * mean[0] * mean[0]);
	if (!isfinite(yy))
	{
		mm_err_set(err, "elastic net: the target is too large (its sum of squares overflows)");
		return MM_ENUMERIC;
	}

	l1reg = params->alpha * params->l1_ratio * n;
	l2reg = params->alpha * (1.0 - params->l1_ratio) * n;
	last_obj = yy / (2.0 * n);
	gap_tol = params->tol * yy;

	for (iter = 0; iter < params->max_iter; iter++)
	{
		double		w_max = 0.0;
		double		d_w_max = 0.0;
		double		wq = 0.0;
		double		wH = 0.0;

		for (j = 0; j < p; j++)
		{
			double		gjj = G[j + (size_t) j * p];
			double		w_j = w[j];
			double		t;
			double		wn;

			if (gjj == 0.0)
				continue;
			t = q[j] - H[j] + w_j * gjj;
			wn = fmax(fabs(t) - l1reg, 0.0) / (gjj + l2reg);
			w[j] = t > 0.0 ? wn : (t < 0.0 ? -wn : 0.0);
			if (w[j] != w_j)
			{
				double		delta = w[j] - w_j;
				const double *gj = G + (size_t) j * p;

				for (i = 0; i < p; i++)
					H[i] += gj[i] * delta;
			}
			d_w_max = fmax(d_w_max, fabs(w[j] - w_j));
			w_max = fmax(w_max, fabs(w[j]));
		}

		for (j = 0; j < p; j++)
		{
			wq += w[j] * q[j];
			wH += w[j] * H[j];
		}
		R_norm2 = yy - 2.0 * wq + wH;
		if (!isfinite(R_norm2))
		{
			mm_err_set(err, "elastic net: coordinate descent diverged (the residuals are not finite)");
			return MM_ENUMERIC;
		}

		if (w_max == 0.0 || d_w_max / w_max < params->tol ||
			iter == params->max_iter - 1)
		{
			for (j = 0; j < p; j++)
				XtR[j] = q[j] - H[j];
			gap = mm_elastic_gap(p, XtR, w, R_norm2, yy - wq, l1reg, l2reg);
			if (gap <= gap_tol)
				converged = true;
		}

		last_obj = mm_elastic_objective_n(n, p, R_norm2, w, params->alpha,
										  params->l1_ratio);
		mm_elastic_progress(progress, iter + 1, last_obj);
		if (converged)
		{
			iter++;
			break;
		}
	}

	mm_elastic_finish(p, w, params, mean + 1, mean[0], n, iter, converged, gap,
					  coef, intercept, info);
	return MM_OK;
}
