/*
 * mm_ensemble.c
 *	  Prediction of any supervised model, and ensembles of models.
 *
 * An ensemble holds whole member models.  Its own feature schema is the
 * union of the members' (by column name), so one input row or array
 * feeds every member: each member's encoded columns are gathered from the
 * ensemble's encoded row through member_map, then scaled by the member's
 * own scaling.  A categorical feature's levels are merged; a level that a
 * member never saw maps to none of its columns, which is exactly that
 * member's own rule for an unseen level (all zeros).
 *
 * Combination: mean (weighted mean of the values), vote (weighted count
 * of each member's most probable class, reported as shares that sum to
 * 1; the first class wins a tie, as numpy's argmax does in scikit-learn's
 * VotingClassifier), soft_vote (weighted mean of the probabilities), and
 * stack: the members' outputs (the value; the probability of the second
 * class for two classes, as scikit-learn's StackingClassifier drops the
 * first; all K probabilities otherwise) are the encoded row of a final
 * model.
 */
#include "mm_core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Values a model outputs: 1 for regression, K probabilities for classification. */
static uint32_t
mm_outputs(const MmModel *m)
{
	return m->task == MM_TASK_CLASSIFICATION ? m->nclasses : 1;
}

uint32_t
mm_stack_width(const MmModel *m)
{
	if (m->task != MM_TASK_CLASSIFICATION)
		return 1;
	return m->nclasses == 2 ? 1 : m->nclasses;
}

/* The widest encoded row among the members (and the final model). */
static uint32_t
mm_members_maxcols(const MmModel *m)
{
	uint32_t	w = m->final ? m->final->ncols : 0;

	for (uint32_t i = 0; i < m->nmembers; i++)
		if (m->members[i]->ncols > w)
			w = m->members[i]->ncols;
	return w;
}

size_t
mm_model_work(const MmModel *m)
{
	size_t		w = 0;

	if (m->algorithm == MM_ALG_MLP)
	{
		for (int l = 0; l <= m->mlp.nlayers; l++)
			if ((size_t) m->mlp.size[l] > w)
				w = (size_t) m->mlp.size[l];
		return 2 * w;
	}
	if (m->algorithm == MM_ALG_ENSEMBLE || m->algorithm == MM_ALG_STACKING)
	{
		size_t		sub = m->final ? mm_model_work(m->final) : 0;
		size_t		q = 0;

		for (uint32_t i = 0; i < m->nmembers; i++)
		{
			size_t		s = mm_model_work(m->members[i]);

			if (s > sub)
				sub = s;
			q += mm_stack_width(m->members[i]);
		}
		return mm_members_maxcols(m) + 2 * (size_t) mm_outputs(m) + q + sub;
	}
	return 0;
}

/* The combination of an ensemble's members on the encoded row x. */
static void
mm_ensemble_predict(const MmModel *m, const double *x, double *out, double *work)
{
	uint32_t	K = mm_outputs(m);
	double	   *xm = work;
	double	   *mo = xm + mm_members_maxcols(m);
	double	   *acc = mo + K;
	double	   *z = acc + K;
	double	   *sub;
	double		wsum = 0.0;
	uint32_t	q = 0;

	for (uint32_t i = 0; i < m->nmembers; i++)
		q += mm_stack_width(m->members[i]);
	sub = z + q;
	memset(acc, 0, sizeof(double) * K);
	q = 0;
	for (uint32_t i = 0; i < m->nmembers; i++)
	{
		const MmModel *mem = m->members[i];
		const uint32_t *map = m->member_map[i];
		double		w = m->weights[i];
		uint32_t	best = 0;

		for (uint32_t j = 0; j < mem->ncols; j++)
			xm[j] = x[map[j]];
		mm_model_scale(mem, xm);
		mm_model_predict(mem, xm, mo, sub);
		wsum += w;
		switch (m->method)
		{
			case MM_ENS_MEAN:
				acc[0] += w * mo[0];
				break;
			case MM_ENS_SOFT_VOTE:
				for (uint32_t k = 0; k < K; k++)
					acc[k] += w * mo[k];
				break;
			case MM_ENS_VOTE:
				for (uint32_t k = 1; k < K; k++)
					if (mo[k] > mo[best])
						best = k;
				acc[best] += w;
				break;
			case MM_ENS_STACK:
				if (mem->task != MM_TASK_CLASSIFICATION)
					z[q++] = mo[0];
				else if (K == 2)
					z[q++] = mo[1];
				else
					for (uint32_t k = 0; k < K; k++)
						z[q++] = mo[k];
				break;
		}
	}
	if (m->method == MM_ENS_STACK)
	{
		mm_model_scale(m->final, z);
		mm_model_predict(m->final, z, out, sub);
		return;
	}
	for (uint32_t k = 0; k < K; k++)
		out[k] = acc[k] / wsum;
}

void
mm_model_predict(const MmModel *m, const double *x, double *out, double *work)
{
	switch (m->algorithm)
	{
		case MM_ALG_LOGISTIC_REGRESSION:
			mm_logistic_proba((int) m->ncols, (int) m->nclasses, m->coefs, m->intercepts, x, out);
			break;
		case MM_ALG_NAIVE_BAYES:
			mm_nb_proba(&m->nb, x, out);
			break;
		case MM_ALG_MLP:
			mm_mlp_forward(&m->mlp, x, out, work);
			break;
		case MM_ALG_ENSEMBLE:
		case MM_ALG_STACKING:
			mm_ensemble_predict(m, x, out, work);
			break;
		default:
			out[0] = mm_linear_predict(m, x);
			break;
	}
}

/* ---------------------------------------------------------------------
 * The ensemble's schema
 * --------------------------------------------------------------------- */

/* The name of a feature kind, for messages. */
static const char *
mm_kind_name(int kind)
{
	return kind == MM_FEAT_CATEGORICAL ? "categorical" : kind == MM_FEAT_ARRAY ? "an array" : "numeric";
}

/* Index of the feature called name among n features, or -1. */
static int
mm_find_feature(const MmFeature *f, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return (int) i;
	return -1;
}

/* A categorical feature's fill value for the level lev (0 when lev is not one of its levels). */
static double
mm_level_fill(const MmFeature *f, const char *lev)
{
	int			l = mm_feature_level(f, lev, strlen(lev));

	return l < 0 ? 0.0 : f->fill[l];
}

/* Does every level of a fill as b fills the level of that name? */
static bool
mm_level_fills_within(const MmFeature *a, const MmFeature *b)
{
	for (uint32_t l = 0; l < a->nlevels; l++)
		if (a->fill[l] != mm_level_fill(b, a->levels[l]))
			return false;
	return true;
}

/* Do two members fill NULLs of a feature alike? */
static bool
mm_fills_alike(const MmFeature *a, const MmFeature *b)
{
	if (a->impute == MM_IMPUTE_ERROR || b->impute == MM_IMPUTE_ERROR)
		return false;
	if (a->kind == MM_FEAT_CATEGORICAL)
		return mm_level_fills_within(a, b) && mm_level_fills_within(b, a);
	for (uint32_t k = 0; k < a->width; k++)
		if (a->fill[k] != b->fill[k])
			return false;
	return true;
}

/* The sorted union of two sorted, distinct level lists. */
static char **
mm_merge_levels(char **a, uint32_t na, char **b, uint32_t nb, uint32_t *n,
				const MmAlloc *al)
{
	char	  **out = mm_alloc0(al, sizeof(char *) * ((size_t) na + nb));
	uint32_t	i = 0,
				j = 0,
				k = 0;

	while (i < na || j < nb)
	{
		int			c = i == na ? 1 : j == nb ? -1 : strcmp(a[i], b[j]);

		if (c <= 0)
			out[k++] = a[i++];
		else
			out[k++] = b[j++];
		if (c == 0)
			j++;
	}
	*n = k;
	return out;
}

MmStatus
mm_ensemble_schema(MmModel *m, const MmAlloc *a, MmErr *err)
{
	const MmModel *first;
	size_t		cap = 0;
	bool	   *alike;
	const MmFeature **origin;
	uint64_t	ncols = 0;

	if (m->nmembers < 1 || m->members == NULL)
	{
		mm_err_set(err, "an ensemble needs members");
		return MM_EINVAL;
	}
	first = m->members[0];
	for (uint32_t i = 0; i < m->nmembers; i++)
		cap += m->members[i]->nfeatures;
	m->features = mm_alloc0(a, sizeof(MmFeature) * cap);
	alike = mm_alloc0(a, sizeof(bool) * cap);
	origin = mm_alloc0(a, sizeof(MmFeature *) * cap);
	m->nfeatures = 0;
	for (uint32_t i = 0; i < m->nmembers; i++)
	{
		const MmModel *mem = m->members[i];

		for (uint32_t j = 0; j < mem->nfeatures; j++)
		{
			const MmFeature *f = &mem->features[j];
			int			at = mm_find_feature(m->features, m->nfeatures, f->name);
			MmFeature  *u;

			if (at < 0)
			{
				u = &m->features[m->nfeatures];
				*u = *f;
				alike[m->nfeatures] = f->impute != MM_IMPUTE_ERROR;
				origin[m->nfeatures] = f;
				m->nfeatures++;
				continue;
			}
			u = &m->features[at];
			if (u->kind != f->kind ||
				(f->kind != MM_FEAT_CATEGORICAL && u->width != f->width))
			{
				mm_err_set(err, "feature \"%s\" of member %u is %s of width %u, but an earlier member has it %s of width %u",
						   f->name, (unsigned) i + 1, mm_kind_name(f->kind), (unsigned) f->width,
						   mm_kind_name(u->kind), (unsigned) u->width);
				return MM_EINVAL;
			}
			alike[at] = alike[at] && mm_fills_alike(origin[at], f);
			if (f->kind == MM_FEAT_CATEGORICAL)
			{
				u->levels = mm_merge_levels(u->levels, u->nlevels, f->levels, f->nlevels,
											&u->nlevels, a);
				u->width = u->nlevels;
				if (u->nlevels > MM_MAX_LEVELS)
				{
					mm_err_set(err, "feature \"%s\" has more than %d levels across the members",
							   f->name, MM_MAX_LEVELS);
					return MM_ELIMIT;
				}
			}
		}
	}
	if (m->nfeatures > MM_MAX_FEATURES)
	{
		mm_err_set(err, "the members have more than %d features together", MM_MAX_FEATURES);
		return MM_ELIMIT;
	}
	for (uint32_t i = 0; i < m->nfeatures; i++)
	{
		MmFeature  *u = &m->features[i];

		if (!alike[i])
		{
			u->impute = MM_IMPUTE_ERROR;
			u->fill = NULL;
		}
		else if (u->kind == MM_FEAT_CATEGORICAL)
		{
			/* the fill per level name, on the merged levels */
			u->impute = origin[i]->impute;
			u->fill = mm_alloc0(a, sizeof(double) * u->width);
			for (uint32_t l = 0; l < u->nlevels; l++)
				u->fill[l] = mm_level_fill(origin[i], u->levels[l]);
		}
		ncols += u->width;
	}
	if (ncols > MM_MAX_COLS)
	{
		mm_err_set(err, "the members have more than %d encoded columns together", MM_MAX_COLS);
		return MM_ELIMIT;
	}
	m->ncols = (uint32_t) ncols;
	m->task = first->task;
	m->target = first->target;
	m->scale = MM_SCALE_NONE;
	m->label_type = first->label_type;
	m->nclasses = first->nclasses;
	m->labels = first->labels;
	return MM_OK;
}

/* ---------------------------------------------------------------------
 * Validation and linking
 * --------------------------------------------------------------------- */

/* Do two classifiers have the same labels? */
static bool
mm_same_labels(const MmModel *a, const MmModel *b)
{
	if (a->label_type != b->label_type || a->nclasses != b->nclasses)
		return false;
	for (uint32_t k = 0; k < a->nclasses; k++)
		if (strcmp(a->labels[k], b->labels[k]) != 0)
			return false;
	return true;
}

/* Check that one model (member or final) may sit in ensemble m. */
static bool
mm_check_part(const MmModel *m, const MmModel *part, const char *what, MmErr *err)
{
	if (part == NULL)
	{
		mm_err_set(err, "%s is missing", what);
		return false;
	}
	if (part->algorithm == MM_ALG_ENSEMBLE || part->algorithm == MM_ALG_STACKING)
	{
		mm_err_set(err, "%s is itself an ensemble", what);
		return false;
	}
	if (part->task != m->task)
	{
		mm_err_set(err, "%s is a %s model, but the ensemble does %s", what,
				   mm_task_name(part->task) ? mm_task_name(part->task) : "unknown",
				   mm_task_name(m->task));
		return false;
	}
	if (m->task == MM_TASK_CLASSIFICATION && !mm_same_labels(m, part))
	{
		mm_err_set(err, "%s has other labels than the ensemble", what);
		return false;
	}
	return true;
}

/*
 * Where member feature f's encoded columns start in m (its feature index
 * in *at), or false with the reason.
 */
static bool
mm_map_feature(const MmModel *m, const MmFeature *f, uint32_t member, int *at,
			   uint32_t *offset, MmErr *err)
{
	uint32_t	off = 0;
	int			i = mm_find_feature(m->features, m->nfeatures, f->name);
	const MmFeature *u;

	if (i < 0)
	{
		mm_err_set(err, "feature \"%s\" of member %u is not a feature of the ensemble",
				   f->name, (unsigned) member);
		return false;
	}
	u = &m->features[i];
	if (u->kind != f->kind || (f->kind != MM_FEAT_CATEGORICAL && u->width != f->width))
	{
		mm_err_set(err, "feature \"%s\" of member %u does not match the ensemble's kind and width",
				   f->name, (unsigned) member);
		return false;
	}
	if (f->kind == MM_FEAT_CATEGORICAL)
		for (uint32_t l = 0; l < f->nlevels; l++)
			if (mm_feature_level(u, f->levels[l], strlen(f->levels[l])) < 0)
			{
				mm_err_set(err, "level \"%s\" of feature \"%s\" of member %u is not a level of the ensemble",
						   f->levels[l], f->name, (unsigned) member);
				return false;
			}
	for (int k = 0; k < i; k++)
		off += m->features[k].width;
	*at = i;
	*offset = off;
	return true;
}

MmStatus
mm_ensemble_check(const MmModel *m, MmErr *err)
{
	double		wsum = 0.0;
	uint64_t	q = 0;
	char		what[32];

	if (m->algorithm == MM_ALG_ENSEMBLE)
	{
		if (m->method > MM_ENS_SOFT_VOTE)
		{
			mm_err_set(err, "unknown ensemble method %u", (unsigned) m->method);
			return MM_EINVAL;
		}
		if ((m->method == MM_ENS_MEAN) != (m->task == MM_TASK_REGRESSION))
		{
			mm_err_set(err, "method %s does not fit a %s ensemble",
					   m->method == MM_ENS_MEAN ? "mean" : m->method == MM_ENS_VOTE ? "vote" : "soft_vote",
					   mm_task_name(m->task) ? mm_task_name(m->task) : "unknown");
			return MM_EINVAL;
		}
	}
	else if (m->method != MM_ENS_STACK)
	{
		mm_err_set(err, "a stacking's method must be stack, not %u", (unsigned) m->method);
		return MM_EINVAL;
	}
	if (m->task != MM_TASK_REGRESSION && m->task != MM_TASK_CLASSIFICATION)
	{
		mm_err_set(err, "an ensemble does regression or classification");
		return MM_EINVAL;
	}
	if (m->scale != MM_SCALE_NONE)
	{
		mm_err_set(err, "an ensemble has no scaling of its own");
		return MM_EINVAL;
	}
	if (m->members == NULL || m->weights == NULL)
	{
		mm_err_set(err, "members or weights are missing");
		return MM_EINVAL;
	}
	if (m->nmembers < 2 || m->nmembers > MM_MAX_MEMBERS)
	{
		mm_err_set(err, "member count %u is out of range 2..%d",
				   (unsigned) m->nmembers, MM_MAX_MEMBERS);
		return MM_EINVAL;
	}
	for (uint32_t i = 0; i < m->nmembers; i++)
	{
		const MmModel *mem = m->members[i];

		snprintf(what, sizeof(what), "member %u", (unsigned) i + 1);
		if (!mm_check_part(m, mem, what, err))
			return MM_EINVAL;
		if (!(isfinite(m->weights[i]) && m->weights[i] >= 0.0))
		{
			mm_err_set(err, "weight %u must be finite and not negative", (unsigned) i + 1);
			return MM_EINVAL;
		}
		wsum += m->weights[i];
		q += mm_stack_width(mem);
		for (uint32_t j = 0; j < mem->nfeatures; j++)
		{
			int			at;
			uint32_t	off;

			if (!mm_map_feature(m, &mem->features[j], i + 1, &at, &off, err))
				return MM_EINVAL;
		}
	}
	if (!(wsum > 0.0) || !isfinite(wsum))
	{
		mm_err_set(err, "the weights must have a positive, finite sum");
		return MM_EINVAL;
	}
	if (m->algorithm == MM_ALG_STACKING)
	{
		if (!mm_check_part(m, m->final, "the final model", err))
			return MM_EINVAL;
		if (m->final->ncols != q)
		{
			mm_err_set(err, "the final model takes %u values, but the members give %llu",
					   (unsigned) m->final->ncols, (unsigned long long) q);
			return MM_EINVAL;
		}
	}
	else if (m->final != NULL)
	{
		mm_err_set(err, "only a stacking has a final model");
		return MM_EINVAL;
	}
	return MM_OK;
}

MmStatus
mm_ensemble_link(MmModel *m, const MmAlloc *a, MmErr *err)
{
	MmStatus	st = mm_ensemble_check(m, err);

	if (st != MM_OK)
		return st;
	m->member_map = mm_alloc0(a, sizeof(uint32_t *) * m->nmembers);
	for (uint32_t i = 0; i < m->nmembers; i++)
	{
		const MmModel *mem = m->members[i];
		uint32_t   *map = mm_alloc0(a, sizeof(uint32_t) * (mem->ncols ? mem->ncols : 1));
		uint32_t	pos = 0;

		for (uint32_t j = 0; j < mem->nfeatures; j++)
		{
			const MmFeature *f = &mem->features[j];
			int			at;
			uint32_t	off;

			(void) mm_map_feature(m, f, i + 1, &at, &off, err);
			for (uint32_t k = 0; k < f->width; k++)
				map[pos++] = f->kind == MM_FEAT_CATEGORICAL ?
					off + (uint32_t) mm_feature_level(&m->features[at], f->levels[k],
													  strlen(f->levels[k])) :
					off + k;
		}
		m->member_map[i] = map;
	}
	return MM_OK;
}
